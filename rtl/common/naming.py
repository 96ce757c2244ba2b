"""Module names that are unique per configuration."""

from __future__ import annotations

import dataclasses
import hashlib
import json


def unique_name(readable: str, config: object, encoded: tuple[str, ...]) -> str:
    """``readable``, followed by ``_h`` and six hex digits of a digest when a field outside ``encoded`` (the
    fields ``readable`` spells out one to one) differs from its default.

    Two configurations that differ get different names, so that variants (pipeline stages, overflow handling,
    counter widths) can be built into one design; a configuration with only the spelled-out fields set keeps
    the readable name alone. The digest is over the other non-default fields by name and value.
    """
    rest = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if f.name not in encoded and getattr(config, f.name) != f.default}
    if not rest:
        return readable
    digest = hashlib.sha1(json.dumps(rest, sort_keys=True).encode()).hexdigest()[:6]
    return f"{readable}_h{digest}"
