"""Flatten nested slices (a field of a field of a ``lib.data`` view) into one slice of the underlying signal.

Amaranth builds ``view[i][j]`` as a slice of a slice; its netlist builder materializes every level, so reading
many narrow fields of one wide signal costs time proportional to the signal's width per read. Blocks that read
thousands of fields of a wide register (the LUT core's weight tile and tables) flatten them first; the
generated logic is the same.
"""

from __future__ import annotations

from amaranth.hdl import Value, ValueCastable
from amaranth.hdl._ast import Operator, Slice  # no public name for the node types; used only to inspect


def flat(value: Value | ValueCastable) -> Value:
    """``value`` with any chain of slices (and a final signedness cast) collapsed to one slice."""
    value = Value.cast(value)
    signed = isinstance(value, Operator) and value.operator == "s" and len(value.operands) == 1
    inner = value.operands[0] if signed else value
    start, stop = 0, len(inner)
    while isinstance(inner, Slice):
        start, stop = inner.start + start, inner.start + stop
        inner = inner.value
    if inner is (value.operands[0] if signed else value):
        return value
    out = inner[start:stop]
    return out.as_signed() if signed else out
