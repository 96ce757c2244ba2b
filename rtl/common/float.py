"""Float fields in hardware: decoding operands, special values, and packing a result with FTZ and overflow.

One implementation for every float block (L-Mul, the exact multiplier, the dot products). Rules (spec
``lmul.md``): subnormal operands read as zero (DAZ); a result exponent <= 0 flushes to signed zero (FTZ); above
the largest finite exponent, infinity where the format has one and ``overflow = "inf"``, else the largest finite
value; in E4M3FN-style formats (no infinity) the pattern S.1..1.1..1 is NaN, so a result landing on it saturates.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value


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
           nan: Value, inf: Value, zero: Value, name: str = "result") -> Signal:
    """Pack a result from a signed exponent field (any width) and a ``man_bits`` mantissa."""
    result = Signal(spec.width, name=name)
    over = exp_field > spec.max_exp_field
    if spec.finite_only:
        over = over | ((exp_field == spec.max_exp_field) & (man == spec.man_ones))
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
