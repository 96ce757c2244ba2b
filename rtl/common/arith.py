"""Combinational arithmetic shared by the blocks: balanced adder trees and population counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from amaranth.hdl import Value, ValueCastable


def adder_tree(operands: Sequence[Value | ValueCastable]) -> Value:
    """Sum ``operands`` with a balanced binary tree of adders (depth ``ceil(log2(n))``).

    Amaranth widens every addition by one bit, so the result never overflows: a tree of ``n`` signed ``w``-bit
    operands yields at most ``w + ceil(log2(n))`` bits.
    """
    if not operands:
        raise ValueError("adder_tree needs at least one operand")
    return tree_levels(operands, tree_depth(len(operands)))[0]


def tree_depth(n: int) -> int:
    """Adder levels of :func:`adder_tree` over ``n`` operands."""
    return (n - 1).bit_length()


def tree_levels(operands: Sequence, levels: int, combine: Callable | None = None, first_level: int = 0,
                pass_up: Callable | None = None) -> list:
    """The first ``levels`` levels of a balanced pairwise tree (operand ``2i`` with ``2i + 1``, an odd one out
    passed up unchanged): the partial results after them, so that a tree cut into register stages combines
    exactly as the whole tree. ``combine(a, b, name)`` combines two (default: integer addition, which widens by a
    bit); ``name`` is ``tree<level>_<index>``, levels counted from ``first_level``. ``pass_up(a, name)`` (default:
    unchanged) is what an odd one out becomes: delayed by a ``combine`` that takes cycles."""
    level = [Value.cast(op) for op in operands] if combine is None else list(operands)
    combine = combine or (lambda a, b, name: a + b)
    for depth in range(first_level, first_level + levels):
        if len(level) == 1:
            break
        paired = [combine(level[i], level[i + 1], f"tree{depth}_{i // 2}") for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1] if pass_up is None else pass_up(level[-1], f"tree{depth}_pass"))
        level = paired
    return level


def stage_levels(depth: int, stages: int) -> list[int]:
    """Adder levels per part of a ``depth``-level tree cut by ``stages`` registers (``stages + 1`` parts, as
    even as possible, the earlier parts the larger)."""
    parts = stages + 1
    return [depth // parts + (1 if i < depth % parts else 0) for i in range(parts)]


def popcount(bits: Sequence[Value]) -> Value:
    """Number of set bits among ``bits`` (each a 1-bit value), as an adder tree of the bits."""
    return adder_tree([Value.cast(b).as_unsigned() for b in bits])


def signed_bits_for(lo: int, hi: int) -> int:
    """Smallest two's-complement width (in bits) that holds every integer in ``lo..hi``."""
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits
