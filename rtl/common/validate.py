"""Config validation helpers: every failure names the config class, the field, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable


def check_int(owner: str, name: str, value: object, lo: int, hi: int | None = None, why: str = "") -> None:
    """Raise ``ValueError`` unless ``value`` is an int in ``lo..hi`` (``hi=None``: no upper bound); ``why`` names
    the other fields a bound comes from."""
    allowed = (f"{lo}..{hi}" if hi != lo else f"{lo}") if hi is not None else f">= {lo}"
    why = f" {why}" if why else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{owner}.{name} must be an integer {allowed}{why}, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"{owner}.{name} must be {'in ' if hi != lo else ''}{allowed}{why}, got {value}")


def check_choice(owner: str, name: str, value: object, choices: Iterable[object]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if not any(type(value) is type(c) and value == c for c in choices):  # 2.0 is not 2, True is not 1
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{owner}.{name} must be one of {allowed}, got {value!r}")
