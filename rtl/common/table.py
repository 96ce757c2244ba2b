"""Lookup tables of signed activation sums, shared by the LUT tensor core and the SLT engine.

A group of ``g`` activations ``x_0..x_{g-1}`` has ``2^g`` signed sums ``T[j] = sum_t (bit_t(j) ? +x_t : -x_t)``.
Because ``T[~j] = -T[j]``, only the ``2^(g-1)`` entries whose top index bit is 0 are built and stored
(:func:`half_table`); :func:`symmetric_read` reads any ``j`` from them. Ternary groups can instead be indexed in
base 3 (:func:`base3_table`: the sums ``sum_t d_t x_t`` over balanced-ternary digit vectors ``d``).
:class:`TablePrecompute` builds the tables of one activation vector and holds them in a register.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from amaranth.hdl import Const, Elaboratable, Module, Mux, Signal, Value, signed
from amaranth.lib import data

from .arith import adder_tree


def entry_range(g: int, act_bits: int) -> tuple[int, int]:
    """Smallest and largest exact table entry: ``g`` activations at ``-2^(act_bits-1)``, either sign."""
    m = g << (act_bits - 1)
    return -m, m


def signed_sums(xs: Sequence[Value]) -> list[Value]:
    """All ``2^n`` sums ``sum_t (bit_t(j) ? +x_t : -x_t)``, index ``j``; the sums of each half of ``xs`` are built
    once and paired, so the last level costs one adder per entry."""
    if len(xs) == 1:
        return [-xs[0], xs[0]]
    h = len(xs) // 2
    lo, hi = signed_sums(xs[:h]), signed_sums(xs[h:])
    return [lo[j & ((1 << h) - 1)] + hi[j >> h] for j in range(1 << len(xs))]


def half_table(xs: Sequence[Value]) -> list[Value]:
    """The ``2^(g-1)`` entries of ``T`` with the top index bit 0 (``x_{g-1}`` taken negative)."""
    if len(xs) == 1:
        return [-xs[0]]
    h = len(xs) // 2
    lo, hi = signed_sums(xs[:h]), half_table(xs[h:])
    return [lo[j & ((1 << h) - 1)] + hi[j >> h] for j in range(1 << (len(xs) - 1))]


def symmetric_read(m: Module, entries: Sequence[Value], index: Value, name: str = "read") -> tuple[Value, Value]:
    """Read ``T[index]`` from the stored half table: ``(value, negate)`` with ``T[index] = value + negate``.

    An index with its top bit set reads ``-T[~index] = ~T[~index] + 1``: the multiplexer selects with the low
    bits inverted and the entry is inverted bitwise; the ``+ 1`` is returned as ``negate`` so that the caller's
    adder tree adds all of a column's carries once (a popcount) instead of one incrementer per cell.
    """
    g = len(index)
    top = index[g - 1]
    if g == 1:
        return Mux(top, ~entries[0], entries[0]), top
    return select(m, entries, index[: g - 1] ^ top.replicate(g - 1), top, name), top


def select(m: Module, entries: Sequence[Value], index: Value, invert: Value, name: str = "read") -> Value:
    """``entries[index]``, bitwise inverted when ``invert``: a multiplexer into a named signal, then an XOR.
    (Entries past the end read as 0; the signal keeps Amaranth from applying the XOR to every entry.) Call it
    outside any ``m.If``: it drives combinational signals of its own."""
    shape = Value.cast(entries[0]).shape()
    chosen = Signal(shape, name=name)
    padded = list(entries) + [Const(0, shape)] * ((1 << len(index)) - len(entries))
    with m.Switch(index):
        for i, entry in enumerate(padded):
            with m.Case(i):
                m.d.comb += chosen.eq(entry)
    if not isinstance(invert, Const):  # a named bit: replicating an expression repeats it per bit
        flip = Signal(name=f"{name}_invert")
        m.d.comb += flip.eq(invert)
        invert = flip
    mask = invert.replicate(shape.width)
    value = Signal(shape, name=f"{name}_value")
    m.d.comb += value.eq(chosen ^ (mask.as_signed() if shape.signed else mask))
    return value


@cache
def _balanced_digits(value: int, g: int) -> tuple[int, ...]:
    digits = []
    for _ in range(g):
        d = ((value + 1) % 3) - 1
        digits.append(d)
        value = (value - d) // 3
    return tuple(digits)


def base3_table(xs: Sequence[Value]) -> list[Value]:
    """``E[m] = sum_t d_t(m) x_t`` for ``m`` in ``0..(3^g - 1)/2``, ``d(m)`` the balanced-ternary digits of ``m``
    (least significant first). Sums of common digit suffixes are built once."""
    g = len(xs)
    built: dict[tuple[int, ...], Value] = {}

    def suffix_sum(digits: tuple[int, ...]) -> Value:
        if digits not in built:
            first, rest = digits[0], digits[1:]
            term = {1: xs[g - len(digits)], -1: -xs[g - len(digits)], 0: Const(0, signed(2))}[first]
            built[digits] = term if not rest else term + suffix_sum(rest)
        return built[digits]

    return [suffix_sum(_balanced_digits(m, g)) for m in range((3 ** g - 1) // 2 + 1)]


def round_shift(value: Value, shift: int) -> Value:
    """``floor(value / 2^shift + 1/2)`` (round half up; arithmetic shift of a signed value)."""
    if shift == 0:
        return value
    return (value + (1 << (shift - 1))) >> shift


class TablePrecompute(Elaboratable):
    """The tables of one activation vector, registered when ``load`` is high (and held otherwise).

    ``lanes`` activations of ``act_bits`` are cut into ``ceil(lanes / g)`` groups (the last group padded with
    zeros). Each group gets its half table (``kind = "half"``, ``2^(g-1)`` entries) or its base-3 table
    (``kind = "base3"``, ``(3^g + 1)/2`` entries), every entry rounded by ``shift`` (:func:`round_shift`) and
    stored as ``signed(entry_bits)``. ``sum_x`` is the registered sum of all lanes (for the zero-point offset).

    Ports: ``acts`` (in), ``load`` (in), ``tables`` (out, ``groups x entries``), ``sum_x`` (out).
    """

    def __init__(self, lanes: int, g: int, act_bits: int, entry_bits: int, shift: int = 0,
                 kind: str = "half") -> None:
        if kind not in ("half", "base3"):
            raise ValueError(f"kind must be 'half' or 'base3', got {kind!r}")
        self.lanes, self.g, self.shift, self.kind = lanes, g, shift, kind
        self.groups = -(-lanes // g)
        self.entries = (1 << (g - 1)) if kind == "half" else (3 ** g + 1) // 2
        self.acts = Signal(data.ArrayLayout(signed(act_bits), lanes))
        self.load = Signal()
        self.tables = Signal(data.ArrayLayout(data.ArrayLayout(signed(entry_bits), self.entries), self.groups),
                             reset_less=True)
        self.sum_x = Signal(signed(act_bits + max(lanes - 1, 1).bit_length()), reset_less=True)

    def elaborate(self, platform):
        m = Module()
        zero = Const(0, self.acts.shape().elem_shape)
        lanes = [self.acts[i] for i in range(self.lanes)] + [zero] * (self.groups * self.g - self.lanes)
        build = half_table if self.kind == "half" else base3_table
        with m.If(self.load):
            for grp in range(self.groups):
                entries = build(lanes[grp * self.g : (grp + 1) * self.g])
                m.d.sync += [self.tables[grp][e].eq(round_shift(v, self.shift)) for e, v in enumerate(entries)]
            m.d.sync += self.sum_x.eq(adder_tree(lanes[: self.lanes]))
        return m

