"""Pack and unpack stream beats using the payload layout recorded in ``manifest.json``.

Benches never compute bit offsets themselves: the manifest lists every leaf of a payload (``data[3]``,
``first``, ``data[2][5]``) with its offset, width and signedness, exactly as an integrator outside Python would.
It lives beside the manifest writer because the host client packs beats with it too (the product does not
import the benches).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

_INDEX = re.compile(r"\[(\d+)\]")


class PayloadCodec:
    """Converts between a beat's integer value and named field values."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.width: int = payload["width"]
        self.fields: list[dict[str, Any]] = payload["fields"]
        self._by_path = {f["path"]: f for f in self.fields}
        self._names = {re.split(r"[\[.]", path, maxsplit=1)[0] for path in self._by_path}

    def has(self, name: str) -> bool:
        """Whether the payload has a top-level field ``name`` (a leaf, an array or a struct)."""
        return name in self._names

    def field_width(self, path: str) -> int:
        return self._by_path[path]["width"]

    @staticmethod
    def _leaves(values: Mapping[str, Any]):
        for name, value in values.items():
            if isinstance(value, (np.ndarray, list, tuple)):
                arr = np.asarray(value)
                for index in np.ndindex(arr.shape):
                    yield name + "".join(f"[{i}]" for i in index), int(arr[index])
            else:
                yield name, int(value)

    def pack(self, values: Mapping[str, Any]) -> int:
        """``{"data": array, "first": 1}`` -> integer beat; unnamed fields are 0, values are masked to width."""
        word = 0
        for path, value in self._leaves(values):
            try:
                field = self._by_path[path]
            except KeyError:
                raise KeyError(f"payload has no field {path!r}") from None
            word |= (value & ((1 << field["width"]) - 1)) << field["offset"]
        return word

    def unpack(self, word: int) -> dict[str, int]:
        """Integer beat -> ``{leaf path: value}``, signed fields sign-extended."""
        out = {}
        for field in self.fields:
            raw = (word >> field["offset"]) & ((1 << field["width"]) - 1)
            if field["signed"] and raw >> (field["width"] - 1):
                raw -= 1 << field["width"]
            out[field["path"]] = raw
        return out

    def array(self, word: int, name: str) -> np.ndarray:
        """The leaves ``name[i]...`` of a beat as an int64 array shaped like the layout's array."""
        leaves = {path: v for path, v in self.unpack(word).items() if path.startswith(name + "[")}
        shape = [1 + max(int(ix[d]) for ix in (_INDEX.findall(p) for p in leaves)) for d in
                 range(len(_INDEX.findall(next(iter(leaves)))))]
        arr = np.zeros(shape, dtype=np.int64)
        for path, v in leaves.items():
            arr[tuple(int(i) for i in _INDEX.findall(path))] = v
        return arr
