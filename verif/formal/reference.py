"""Reference multipliers and the float adder for the proofs, written from ``lmul.md`` as plain Amaranth expressions.

They share no code with ``rtl/`` (the designs under proof) and are written as directly from the spec as
possible: the exact multiplier forms the full significand product and rounds it to nearest, ties to even;
L-Mul adds fields. Operands and results are bit patterns of one format; subnormal operands are zero (DAZ),
results below the smallest normal flush to signed zero (FTZ, for the exact product judged before rounding).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Mux, Value, signed


@dataclass(frozen=True)
class Format:
    """A float format: ``finite_only`` is E4M3FN style (no infinity; S.1..1.1..1 is the only NaN)."""

    exp_bits: int
    man_bits: int
    finite_only: bool = False

    @property
    def width(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def bias(self) -> int:
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def max_exp(self) -> int:
        """The largest exponent field of a finite number."""
        return (1 << self.exp_bits) - (1 if self.finite_only else 2)

    @property
    def nan_bits(self) -> int:
        return (1 << (self.width - 1)) - 1  # positive, exponent and mantissa all ones

    @property
    def inf_bits(self) -> int:
        return ((1 << self.exp_bits) - 1) << self.man_bits

    @property
    def max_finite_bits(self) -> int:
        man = (1 << self.man_bits) - (2 if self.finite_only else 1)
        return (self.max_exp << self.man_bits) | man


def _as_int(value: Value, width: int) -> Value:
    """``value`` (unsigned) zero-extended to ``width`` bits, as a signed value."""
    return Cat(value, Const(0, width - len(value))).as_signed()


def _classify(a: Value, b: Value, f: Format):
    m, e = f.man_bits, f.exp_bits

    def kind(x):
        exp, man = x[m:m + e], x[:m]
        top = exp == (1 << e) - 1
        nan = top & (man == (1 << m) - 1) if f.finite_only else top & (man != 0)
        inf = Const(0) if f.finite_only else top & (man == 0)
        return nan, inf, exp == 0

    nan_a, inf_a, zero_a = kind(a)
    nan_b, inf_b, zero_b = kind(b)
    nan = nan_a | nan_b | (inf_a & zero_b) | (inf_b & zero_a)
    inf = (inf_a | inf_b) & ~nan
    zero = (zero_a | zero_b) & ~nan & ~inf
    return a[-1] ^ b[-1], nan, inf, zero


def _finish(sign, exp: Value, man: Value, nan, inf, zero, f: Format, overflow: str) -> Value:
    """The result pattern from a signed exponent field and ``man_bits`` of mantissa, with the special cases."""
    m = f.man_bits
    over = (exp > f.max_exp) | ((exp == f.max_exp) & (man == (1 << m) - 1) if f.finite_only else Const(0))
    under = exp <= 0
    signed_zero = Cat(Const(0, f.width - 1), sign)
    infinity = f.max_finite_bits if f.finite_only else f.inf_bits
    big = f.inf_bits if (overflow == "inf" and not f.finite_only) else f.max_finite_bits
    number = Cat(man[:m], exp[:f.exp_bits], sign)
    return Mux(nan, f.nan_bits,
               Mux(zero, signed_zero,
                   Mux(inf, signed_zero | infinity,
                       Mux(under, signed_zero,
                           Mux(over, signed_zero | big, number)))))


def lmul(a: Value, b: Value, f: Format, norm: str = "carry", overflow: str = "inf") -> Value:
    """L-Mul (Luo and Sun, Eq. 3): ``(1 + xm + ym + 2^-l(m)) 2^(xe + ye)``.

    ``carry``: the (exponent, mantissa) fields added as integers with the offset, minus the bias in mantissa
    units; ``shift``: the significand ``1 + xm + ym + 2^-l(m)`` halved (truncating) when it reaches 2.
    """
    m, e = f.man_bits, f.exp_bits
    l_m = m if m <= 3 else 3 if m == 4 else 4
    offset = 1 << (m - l_m)
    sign, nan, inf, zero = _classify(a, b, f)
    w = e + m + 4
    if norm == "carry":
        total = _as_int(a[:m + e], w) + _as_int(b[:m + e], w) + Const(offset - (f.bias << m), signed(w))
        exp, man = (total >> m), total[:m]
    else:
        significand = _as_int(a[:m], m + 3) + _as_int(b[:m], m + 3) + ((1 << m) + offset)
        wide = significand >= (2 << m)
        exp = _as_int(a[m:m + e], e + 3) + _as_int(b[m:m + e], e + 3) - f.bias + wide
        man = Mux(wide, significand[1:m + 1], significand[:m])
    return _finish(sign, exp, man, nan, inf, zero, f, overflow)


def exact_mul(a: Value, b: Value, f: Format, overflow: str = "inf") -> Value:
    """The product of two normal operands' significands, exactly, then rounded to nearest, ties to even."""
    m, e = f.man_bits, f.exp_bits
    sign, nan, inf, zero = _classify(a, b, f)
    product = Cat(a[:m], 1) * Cat(b[:m], 1)  # in [2^2m, 2^(2m+2))
    wide = product[2 * m + 1]
    kept = Mux(wide, product[m + 1:2 * m + 1], product[m:2 * m])
    half = Mux(wide, product[m], product[m - 1])
    below = Mux(wide, product[:m] != 0, product[:m - 1] != 0) if m > 1 else Mux(wide, product[0], 0)
    rounded = kept + (half & (below | kept[0]))  # m + 1 bits: the top bit is the carry into the exponent
    exp_exact = _as_int(a[m:m + e], e + 3) + _as_int(b[m:m + e], e + 3) - f.bias + wide
    exp = Mux(exp_exact <= 0, exp_exact, exp_exact + rounded[m])  # below the smallest normal: flushed unrounded
    return _finish(sign, exp, rounded[:m], nan, inf, zero, f, overflow)


def fp_add(a: Value, b: Value, f: Format, overflow: str = "inf") -> Value:
    """The sum of two operands formed exactly, as one signed integer in units of the smallest normal's last place
    (a normal operand is ``1.man x 2^(exp - 1)`` of them), then rounded to nearest, ties to even. An exact sum
    below the smallest normal flushes to zero with the sum's sign; an exact zero is -0 only when both operands
    are -0 (or negative subnormals, read as zero); infinities of opposite signs give NaN."""
    m, e = f.man_bits, f.exp_bits
    width = m + (1 << e) + 2  # the largest magnitude has m + 1 + (2^e - 2) bits; a sign and a carry more

    def operand(x: Value):
        exp, man, sign = x[m:m + e], x[:m], x[-1]
        top = exp == (1 << e) - 1
        nan = top & (man == (1 << m) - 1) if f.finite_only else top & (man != 0)
        inf = Const(0) if f.finite_only else top & (man == 0)
        magnitude = Mux((exp == 0) | nan | inf, 0, (Cat(man, 1) << exp) >> 1)
        return sign, Mux(sign, -_as_int(magnitude, width), _as_int(magnitude, width)), nan, inf

    sign_a, value_a, nan_a, inf_a = operand(a)
    sign_b, value_b, nan_b, inf_b = operand(b)
    total = value_a + value_b
    negative = total < 0
    size = Mux(negative, -total, total)[:width]
    top_bit = Const(0, range(width))
    for i in range(width):  # the highest set bit wins
        top_bit = Mux(size[i], i, top_bit)
    exp = _as_int(top_bit, width.bit_length() + 2) - (m - 1)  # the exponent field of the leading one
    drop = Mux(top_bit > m, top_bit - m, 0).as_unsigned()  # bits below the kept mantissa
    kept = (size >> drop)[:m + 1]
    half = (Cat(Const(0, 1), size) >> drop)[0]  # the highest dropped bit
    below = (size & (((Const(1, width + 1) << drop) - 1) >> 1)) != 0  # any lower dropped bit
    rounded = kept[:m] + (half & (below | kept[0]))  # m + 1 bits: the top bit is the carry into the exponent
    exp = Mux(exp <= 0, exp, exp + rounded[m])  # below the smallest normal: flushed unrounded
    nan = nan_a | nan_b | (inf_a & inf_b & (sign_a != sign_b))
    inf = (inf_a | inf_b) & ~nan
    zero = (size == 0) & ~nan & ~inf
    sign = Mux(inf, Mux(inf_a, sign_a, sign_b), Mux(size == 0, sign_a & sign_b, negative))
    return _finish(sign, exp, rounded[:m], nan, inf, zero, f, overflow)
