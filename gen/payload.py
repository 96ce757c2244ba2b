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

    # --- many beats at once: beats as rows of 32-bit little-endian words ------------------------------------

    @property
    def words(self) -> int:
        """32-bit words a beat takes in the word arrays of :meth:`pack_words` (``ceil(width / 32)``, at least 1)."""
        return max(1, -(-self.width // 32))

    def pack_words(self, values: Mapping[str, Any], beats: int) -> np.ndarray:
        """Many beats at once: ``{"data": (beats, 16) array, "first": (beats,) array}`` -> (beats, words) uint32,
        word ``i`` holding payload bits ``32 i .. 32 i + 31``. A field's array has the beat axis first and the
        layout's shape after it (``""`` for a payload that is one array); unnamed fields are 0, values are masked
        to their width as in :meth:`pack`."""
        out = np.zeros((beats, self.words), dtype=np.uint64)
        for name, value in values.items():
            arr = np.asarray(value).astype(np.int64)
            if arr.shape[:1] != (beats,):
                raise ValueError(f"field {name!r} has shape {arr.shape}, expected {beats} beats first")
            for index in np.ndindex(arr.shape[1:]):
                path = name + "".join(f"[{i}]" for i in index)
                try:
                    field = self._by_path[path]
                except KeyError:
                    raise KeyError(f"payload has no field {path!r}") from None
                bits = (arr[(slice(None), *index)] & ((1 << field["width"]) - 1)).astype(np.uint64)
                offset, width = field["offset"], field["width"]
                while width > 0:  # a field may straddle words
                    word, shift = divmod(offset, 32)
                    take = min(width, 32 - shift)
                    out[:, word] |= (bits & np.uint64((1 << take) - 1)) << np.uint64(shift)
                    bits >>= np.uint64(take)
                    offset, width = offset + take, width - take
        return out.astype(np.uint32)

    @staticmethod
    def word_int(row: np.ndarray) -> int:
        """One beat's row of 32-bit words (:meth:`pack_words`) as the integer beat :meth:`pack` gives."""
        return int.from_bytes(np.ascontiguousarray(row, dtype="<u4").tobytes(), "little")

    def int_words(self, beats: list[int]) -> np.ndarray:
        """Integer beats as rows of 32-bit words, (beats, :attr:`words`) uint32: the inverse of :meth:`word_int`."""
        return np.array([[(v >> (32 * i)) & 0xFFFFFFFF for i in range(self.words)] for v in beats],
                        dtype=np.uint32).reshape(-1, self.words)

    def unpack_words(self, words: np.ndarray, name: str) -> np.ndarray:
        """The leaves ``name[i]...`` (or the leaf ``name``) of many beats, (beats, words) uint32 as from
        :meth:`pack_words`, as an int64 array (beats, *shape), signed fields sign-extended."""
        words = np.asarray(words, dtype=np.uint64)
        leaves = [f for f in self.fields if f["path"] == name or f["path"].startswith(name + "[")]
        if not leaves:
            raise KeyError(f"payload has no field {name!r}")
        indices = [tuple(int(i) for i in _INDEX.findall(f["path"][len(name):])) for f in leaves]
        shape = tuple(1 + max(ix[d] for ix in indices) for d in range(len(indices[0])))
        out = np.zeros((words.shape[0], *shape), dtype=np.int64)
        for field, index in zip(leaves, indices, strict=True):
            value = np.zeros(words.shape[0], dtype=np.uint64)
            offset, width, done = field["offset"], field["width"], 0
            while done < width:
                word, shift = divmod(offset + done, 32)
                take = min(width - done, 32 - shift)
                value |= ((words[:, word] >> np.uint64(shift)) & np.uint64((1 << take) - 1)) << np.uint64(done)
                done += take
            signed = value.astype(np.int64)
            if field["signed"]:
                signed = np.where(signed >> (width - 1) & 1, signed - (1 << width), signed)
            out[(slice(None), *index)] = signed
        return out
