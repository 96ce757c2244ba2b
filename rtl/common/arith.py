"""Combinational arithmetic shared by the blocks: balanced adder trees and population counts."""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Value, ValueCastable


def adder_tree(operands: Sequence[Value | ValueCastable]) -> Value:
    """Sum ``operands`` with a balanced binary tree of adders (depth ``ceil(log2(n))``).

    Amaranth widens every addition by one bit, so the result never overflows: a tree of ``n`` signed ``w``-bit
    operands yields at most ``w + ceil(log2(n))`` bits.
    """
    level = [Value.cast(op) for op in operands]
    if not level:
        raise ValueError("adder_tree needs at least one operand")
    while len(level) > 1:
        paired = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def popcount(bits: Sequence[Value]) -> Value:
    """Number of set bits among ``bits`` (each a 1-bit value), as an adder tree of the bits."""
    return adder_tree([Value.cast(b).as_unsigned() for b in bits])


def signed_bits_for(lo: int, hi: int) -> int:
    """Smallest two's-complement width (in bits) that holds every integer in ``lo..hi``."""
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits
