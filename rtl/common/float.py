"""Float fields in hardware: decoding operands, special values, and packing a result with FTZ and overflow.

One implementation for every float block (L-Mul, the exact multiplier, the dot products). Rules (spec
``lmul.md``): subnormal operands read as zero (DAZ); a result exponent <= 0 flushes to signed zero (FTZ); above
the largest finite exponent, infinity where the format has one and ``overflow = "inf"``, else the largest finite
value; in E4M3FN-style formats (no infinity) the pattern S.1..1.1..1 is NaN, so a result landing on it saturates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed


@dataclass(frozen=True)
class FloatSpec:
    exp_bits: int
    man_bits: int
    finite_only: bool  # E4M3FN style: no infinity, NaN only at all-ones exponent and mantissa

    @property
    def width(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def bias(self) -> int:
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def exp_ones(self) -> int:
        return (1 << self.exp_bits) - 1

    @property
    def man_ones(self) -> int:
        return (1 << self.man_bits) - 1

    @property
    def max_exp_field(self) -> int:
        return self.exp_ones if self.finite_only else self.exp_ones - 1

    @property
    def max_finite(self) -> int:
        """Exponent and mantissa fields (no sign) of the largest finite value."""
        man = self.man_ones - 1 if self.finite_only else self.man_ones
        return (self.max_exp_field << self.man_bits) | man

    @property
    def nan(self) -> int:
        return (self.exp_ones << self.man_bits) | self.man_ones

    @property
    def inf(self) -> int:
        return self.exp_ones << self.man_bits


@dataclass
class Operand:
    sign: Value
    exp: Value
    man: Value
    zero: Value  # zero or subnormal (DAZ)
    inf: Value
    nan: Value


def decode(m: Module, value: Value, spec: FloatSpec, name: str) -> Operand:
    man = Signal(spec.man_bits, name=f"{name}_man")
    exp = Signal(spec.exp_bits, name=f"{name}_exp")
    sign = Signal(name=f"{name}_sign")
    m.d.comb += Cat(man, exp, sign).eq(value)
    top = exp == spec.exp_ones
    if spec.finite_only:
        nan, inf = top & (man == spec.man_ones), Const(0)
    else:
        nan, inf = top & (man != 0), top & (man == 0)
    return Operand(sign, exp, man, exp == 0, inf, nan)


def special_cases(a: Operand, b: Operand) -> tuple[Value, Value, Value, Value]:
    """Sign of the product, and whether it is NaN, infinity or zero before any arithmetic."""
    nan = a.nan | b.nan | (a.inf & b.zero) | (b.inf & a.zero)
    inf = (a.inf | b.inf) & ~nan
    zero = (a.zero | b.zero) & ~nan & ~inf
    return a.sign ^ b.sign, nan, inf, zero


def finish(m: Module, spec: FloatSpec, overflow: str, sign: Value, exp_field: Value, man: Value,
           nan: Value, inf: Value, zero: Value, name: str = "result", over: Value | None = None,
           under: Value | None = None) -> Signal:
    """Pack a result from a signed exponent field (any width) and a ``man_bits`` mantissa. A caller that judges
    overflow (:func:`overflows`) and underflow (exponent <= 0) earlier than the final exponent field passes them
    as ``over`` and ``under``; only the field's low ``exp_bits`` bits are then read."""
    result = Signal(spec.width, name=name)
    if over is None:
        over = overflows(spec, exp_field > spec.max_exp_field, exp_field == spec.max_exp_field, man)
    if under is None:
        under = exp_field <= 0
    saturate = spec.finite_only or overflow == "saturate"
    big = spec.max_finite if saturate else spec.inf
    infinity = spec.max_finite if spec.finite_only else spec.inf
    magnitude = Mux(nan, spec.nan,
                Mux(inf, infinity,
                Mux(zero | under, 0,
                Mux(over, big, Cat(man, exp_field[:spec.exp_bits])))))
    m.d.comb += result.eq(Cat(magnitude[:spec.width - 1], sign & ~nan))
    return result


def leading_zeros(m: Module, value: Value, name: str) -> Signal:
    """Count of zeros above the highest set bit of ``value`` (any count >= the width when it is 0), as a
    balanced tree: each node takes the upper half's count when the upper half has a set bit, else the lower
    half's with the half's width added, so the depth grows with log2 of the width (a priority chain grows
    with the width)."""
    size = 1 << (len(value) - 1).bit_length()
    bits = Cat(Const(0, size - len(value)), value)  # zeros below: the count of a nonzero value is unchanged

    def node(lo: int, n: int) -> tuple[Value, Value]:
        """(any bit set, zeros above the highest set bit) of bits[lo : lo + n]."""
        if n == 2:
            return bits[lo + 1] | bits[lo], ~bits[lo + 1]
        low_any, low_count = node(lo, n // 2)
        high_any, high_count = node(lo + n // 2, n // 2)
        return high_any | low_any, Cat(Mux(high_any, high_count, low_count), ~high_any)

    count = Signal(range(size + 1), name=name)
    m.d.comb += count.eq(node(0, size)[1])
    return count


def overflows(spec: FloatSpec, above: Value, at_top: Value, man: Value) -> Value:
    """Whether a result overflows: its exponent field is ``above`` the largest finite one, or, in a finite-only
    format, ``at_top`` of it with an all-ones mantissa (the NaN pattern)."""
    return above | (at_top & (man == spec.man_ones)) if spec.finite_only else above


#: Where an adder with ``stages`` registers cuts its datapath: after the operands are ordered (0), after the
#: alignment (1), after the addition (2), after the leading-zero count (3), after the normalization (4).
ADDER_CUTS = {0: (), 1: (2,), 2: (1, 4), 3: (0, 2, 4), 4: (0, 1, 2, 4), 5: (0, 1, 2, 3, 4)}


def add(m: Module, spec: FloatSpec, overflow: str, a: Value, b: Value, name: str, stages: int = 0,
        register: Callable[[Value, str], Value] | None = None) -> Signal:
    """Float adder: round to nearest even, DAZ, FTZ on the exact sum, IEEE zero signs.

    Classic guard/round/sticky datapath: order the operands by magnitude, align the smaller one (bits shifted
    out fold into the sticky bit), add or subtract, normalize (carry out or leading-zero shift; a shift of more
    than one place only happens when the alignment was at most one place, so no sticky bit is lost), round.
    Written for depth, with the same function: both exponent differences are formed beside the magnitude
    comparison, whether the shift loses a set bit is one comparison with the smaller operand's trailing zeros
    (counted beside the magnitude comparison), the leading zeros are counted by a tree, and overflow and
    underflow are judged on the exponent before rounding (for both outcomes of the rounding carry) while the
    mantissa rounds.

    ``stages`` (0..5) registers cut it at the points of :data:`ADDER_CUTS`, each made by ``register(value,
    name)`` (the caller's register, loaded with its pipeline); the result comes ``stages`` cycles after the
    operands. Combinational by default.
    """
    e, mb = spec.exp_bits, spec.man_bits
    cuts = ADDER_CUTS[stages]

    def cut(point: int, **values: Value) -> list[Value]:
        if point not in cuts:
            return list(values.values())
        return [register(value, f"{name}_s{point}_{key}") for key, value in values.items()]

    x_in = decode(m, a, spec, f"{name}_a")
    y_in = decode(m, b, spec, f"{name}_b")
    swap = Signal(name=f"{name}_swap")
    m.d.comb += swap.eq(Cat(y_in.man, y_in.exp) > Cat(x_in.man, x_in.exp))
    # both operands decoded and extended beside the comparison, which then only selects
    width = mb + 4  # 1.mantissa, then guard, round and sticky places
    a_ext, b_ext = (Mux(op.zero, 0, Cat(Const(0, 3), op.man, 1)) for op in (x_in, y_in))
    x, y = (Operand(*(Mux(swap, getattr(other, f.name), getattr(one, f.name)) for f in fields(Operand)))
            for one, other in ((x_in, y_in), (y_in, x_in)))
    x_ext = Signal(width, name=f"{name}_x_ext")
    y_ext = Signal(width, name=f"{name}_y_ext")
    m.d.comb += [x_ext.eq(Mux(swap, b_ext, a_ext)), y_ext.eq(Mux(swap, a_ext, b_ext))]
    # the alignment distance, from both operands' differences (no subtraction waits for the ordering)
    difference = Signal(e, name=f"{name}_difference")
    m.d.comb += difference.eq(Mux(swap, y_in.exp - x_in.exp, x_in.exp - y_in.exp))
    # the smaller operand's lowest set bit, from both operands' trailing zeros: the alignment loses a set bit
    # (the sticky bit) exactly when it shifts by more than the zeros below that bit
    trailing = [leading_zeros(m, Cat(*reversed(Cat(op.man, 1))), f"{name}_{side}_trailing_zeros")
                for op, side in ((x_in, "a"), (y_in, "b"))]
    low_zeros = Signal(range(width + 1), name=f"{name}_low_zeros")  # of the extended significand: 3 more
    m.d.comb += low_zeros.eq(Mux(swap, trailing[0] + 3, trailing[1] + 3))
    subtract = x.sign ^ y.sign
    nan = x.nan | y.nan | (x.inf & y.inf & subtract)
    inf = (x.inf | y.inf) & ~nan
    sign, zero_sign, exp, y_zero = x.sign, x.sign & y.sign, x.exp, y.zero
    x_ext, y_ext, difference, low_zeros, y_zero, subtract, nan, inf, sign, zero_sign, exp = cut(
        0, x_ext=x_ext, y_ext=y_ext, difference=difference, low_zeros=low_zeros, y_zero=y_zero, subtract=subtract,
        nan=nan, inf=inf, sign=sign, zero_sign=zero_sign, exp=exp)

    shift_bits = (width - 1).bit_length()
    shift = difference[:shift_bits]
    beyond = difference[shift_bits:].any() if e > shift_bits else Const(0)  # every bit shifted out
    lost = Signal(name=f"{name}_lost")  # a set bit shifted out: the sticky bit
    m.d.comb += lost.eq(~y_zero & (beyond | (shift > low_zeros)))
    aligned = Signal(width, name=f"{name}_aligned")
    m.d.comb += aligned.eq(Mux(beyond, 0, y_ext >> shift) | lost)
    x_ext, aligned, subtract, nan, inf, sign, zero_sign, exp = cut(
        1, x_ext=x_ext, aligned=aligned, subtract=subtract, nan=nan, inf=inf, sign=sign, zero_sign=zero_sign,
        exp=exp)

    total = Signal(width + 1, name=f"{name}_sum")
    m.d.comb += total.eq(Mux(subtract, x_ext - aligned, x_ext + aligned))
    total, nan, inf, sign, zero_sign, exp = cut(
        2, total=total, nan=nan, inf=inf, sign=sign, zero_sign=zero_sign, exp=exp)

    leading = leading_zeros(m, total[:width], f"{name}_leading_zeros")
    total, leading, nan, inf, sign, zero_sign, exp = cut(
        3, total=total, leading=leading, nan=nan, inf=inf, sign=sign, zero_sign=zero_sign, exp=exp)

    normal = Signal(width, name=f"{name}_normalized")
    exp_n = Signal(signed(e + 3), name=f"{name}_exp_n")
    with m.If(total[width]):
        m.d.comb += [normal.eq(Cat(total[0] | total[1], total[2 : width + 1])), exp_n.eq(exp + 1)]
    with m.Else():
        m.d.comb += [normal.eq(total[:width] << leading), exp_n.eq(exp - leading)]
    exact_zero = total == 0
    normal, exp_n, exact_zero, nan, inf, sign, zero_sign = cut(
        4, normal=normal, exp_n=exp_n, exact_zero=exact_zero, nan=nan, inf=inf, sign=sign, zero_sign=zero_sign)

    man, guard, rest = normal[3 : mb + 3], normal[2], normal[0] | normal[1]
    round_up = guard & (rest | man[0])
    carry = round_up & man.all()  # the rounding carries into the exponent (the mantissa wraps to 0)
    rounded = Signal(mb, name=f"{name}_rounded")
    m.d.comb += rounded.eq(man + round_up)
    under = exp_n <= 0  # FTZ judged on the exact sum
    top = spec.max_exp_field
    over = overflows(spec, Mux(carry, exp_n >= top, exp_n > top), Mux(carry, exp_n == top - 1, exp_n == top),
                     rounded)
    exp_field = Signal(e, name=f"{name}_exp_field")
    m.d.comb += exp_field.eq(Mux(carry, exp_n + 1, exp_n))

    sign = Mux(inf, sign, Mux(exact_zero, zero_sign, sign))
    zero = exact_zero & ~inf & ~nan
    return finish(m, spec, overflow, sign, exp_field, rounded, nan, inf, zero, name=name, over=over,
                  under=under)


def widen(m: Module, source: FloatSpec, target: FloatSpec, value: Value, name: str) -> Signal:
    """Exact conversion to a format with at least as many exponent and mantissa bits (DAZ: subnormals to 0)."""
    op = decode(m, value, source, name)
    out = Signal(target.width, name=f"{name}_wide")
    exp = Mux(op.zero, 0, op.exp + (target.bias - source.bias))
    man = Mux(op.zero, 0, Cat(Const(0, target.man_bits - source.man_bits), op.man))
    magnitude = Mux(op.nan, target.nan, Mux(op.inf, target.inf, Cat(man, exp[: target.exp_bits])))
    m.d.comb += out.eq(Cat(magnitude[: target.width - 1], op.sign & ~op.nan))
    return out
