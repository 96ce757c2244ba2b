"""Presets (``presets.toml``) and command-line overrides turned into validated config objects."""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .registry import Block, block

_RESERVED = ("block", "baseline", "compare")


@dataclass(frozen=True)
class Design:
    """One design to emit: a preset name (with overrides applied), its block and its validated config."""

    name: str
    block: Block
    config: Any
    baseline: str | None = None
    #: Further presets this one is compared with in reports (same ops per cycle), beside its baseline.
    compare: tuple[str, ...] = ()


def load_presets() -> dict[str, dict[str, Any]]:
    text = resources.files("gen").joinpath("presets.toml").read_text()
    return tomllib.loads(text)


def parse_override(text: str) -> tuple[str, Any]:
    """``field=value`` with a TOML value (``rows=8``, ``weight_kind=int8``, ``acc_bits=20``)."""
    if "=" not in text:
        raise ValueError(f"--set expects field=value, got {text!r}")
    key, raw = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def parse_overrides(texts: list[str]) -> dict[str, Any]:
    """Every ``--set field=value``; a field given twice is an error (not "last wins"), so that a script that
    sets one field twice by mistake does not build something else than it says."""
    out: dict[str, Any] = {}
    for text in texts:
        key, value = parse_override(text)
        if key in out:
            raise ValueError(f"--set {key} given twice ({out[key]!r} and {value!r}): set each field once")
        out[key] = value
    return out


def make_config(blk: Block, fields: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(blk.config_class)}
    for key in fields:
        if key not in known:
            raise ValueError(f"unknown field {key!r} for {blk.config_class.__name__}; "
                             f"fields: {', '.join(sorted(known))}")
    return blk.config_class(**fields)


def design(preset: str, overrides: dict[str, Any] | None = None) -> Design:
    presets = load_presets()
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r}; presets: {', '.join(presets)}")
    entry = dict(presets[preset])
    blk = block(entry["block"])
    baseline = entry.get("baseline")
    compare = tuple(entry.get("compare", ()))
    fields = {k: v for k, v in entry.items() if k not in _RESERVED}
    name = preset
    if overrides:
        fields.update(overrides)
        tag = ",".join(f"{k}={v}" for k, v in sorted(overrides.items()))
        name = f"{preset}@{hashlib.sha1(tag.encode()).hexdigest()[:8]}"
        baseline, compare = None, ()
    return Design(name, blk, make_config(blk, fields), baseline, compare)


def all_designs() -> list[Design]:
    return [design(name) for name in load_presets()]
