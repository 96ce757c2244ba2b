"""Golden models of L-Mul and of the exact (round-to-nearest-even) float multiplier (spec: ``lmul.md``).

L-Mul (Luo and Sun, arXiv 2410.00907, Eq. 3): ``(1 + xm + ym + 2^-l(m)) 2^(xe+ye)`` replaces the mantissa product
``xm*ym`` by the constant ``2^-l(m)``. Both take and return bit patterns of one format; both treat subnormal
operands as zero (DAZ) and flush results below the smallest normal to signed zero (FTZ).
"""

from __future__ import annotations

import numpy as np

from .fp import FloatFormat, decode, fields, fmt, is_inf, is_nan, pack, round_to_format

NORMS = ("carry", "shift")
OVERFLOWS = ("inf", "saturate")


def offset_exponent(man_bits: int) -> int:
    """``l(m)`` of the paper: m for m <= 3, 3 for m = 4, 4 for m > 4."""
    return man_bits if man_bits <= 3 else 3 if man_bits == 4 else 4


def _specials(a, b, f: FloatFormat, overflow: str):
    """Sign, and the (mask, bits) of results decided before any arithmetic (NaN, infinity, zero)."""
    sa, ea, _ = fields(a, f)
    sb, eb, _ = fields(b, f)
    sign = sa ^ sb
    nan = is_nan(a, f) | is_nan(b, f)
    inf_a, inf_b = is_inf(a, f), is_inf(b, f)
    zero_a, zero_b = ea == 0, eb == 0  # zero or subnormal: DAZ
    nan |= (inf_a & zero_b) | (inf_b & zero_a)
    inf = (inf_a | inf_b) & ~nan
    zero = (zero_a | zero_b) & ~nan & ~inf
    return sign, nan, inf, zero


def _finish(sign, exp_field, man, nan, inf, zero, f: FloatFormat, overflow: str) -> np.ndarray:
    """Apply underflow (FTZ), overflow (inf or saturate; E4M3FN saturates) and the special-value masks."""
    over = exp_field > f.max_exp_field
    if not f.has_inf:
        over |= (exp_field == f.max_exp_field) & (man == (1 << f.man_bits) - 1)  # would be the NaN pattern
    under = exp_field <= 0
    big = f.inf_bits if (f.has_inf and overflow == "inf") else f.max_finite_bits
    out = pack(sign, np.clip(exp_field, 0, f.exp_all_ones), man, f)
    out = np.where(over, (sign << (f.width - 1)) | big, out)
    out = np.where(under, sign << (f.width - 1), out)
    inf_bits = f.inf_bits if f.has_inf else f.max_finite_bits
    out = np.where(inf, (sign << (f.width - 1)) | inf_bits, out)
    out = np.where(zero, sign << (f.width - 1), out)
    return np.where(nan, f.nan_bits, out).astype(np.int64)


def lmul(a: np.ndarray, b: np.ndarray, format: str | FloatFormat, norm: str = "carry",
         overflow: str = "inf") -> np.ndarray:
    """L-Mul of bit patterns ``a`` and ``b`` in ``format``.

    ``norm = "carry"``: the (exponent, mantissa) fields are added as one integer, minus the bias, plus the offset
    ``2^(m - l(m))`` mantissa units; a mantissa carry increments the exponent and the significand becomes
    ``2 (xm + ym + 2^-l(m))``. ``norm = "shift"``: the paper's formula as written: when
    ``1 + xm + ym + 2^-l(m) >= 2`` the exponent is incremented and the significand halved, truncating the bit
    shifted out.
    """
    f = fmt(format)
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if overflow not in OVERFLOWS:
        raise ValueError(f"overflow must be one of {OVERFLOWS}, got {overflow!r}")
    m = f.man_bits
    offset = 1 << (m - offset_exponent(m))
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    sign, nan, inf, zero = _specials(a, b, f, overflow)
    _, ea, ma = fields(a, f)
    _, eb, mb = fields(b, f)
    if norm == "carry":
        total = ((ea << m) | ma) + ((eb << m) | mb) - (f.bias << m) + offset
        exp_field, man = total >> m, total & ((1 << m) - 1)
    else:
        significand = (1 << m) + ma + mb + offset  # in [2^m, 3 * 2^m)
        wide = significand >= (2 << m)
        exp_field = ea + eb - f.bias + wide
        man = np.where(wide, significand >> 1, significand) - (1 << m)
    return _finish(sign, exp_field, man, nan, inf, zero, f, overflow)


def exact_mul(a: np.ndarray, b: np.ndarray, format: str | FloatFormat, overflow: str = "inf") -> np.ndarray:
    """The correctly rounded (round to nearest, ties to even) product, with L-Mul's DAZ/FTZ and special rules.

    The product of two decoded operands is exact in float64 (at most 2 x 24 significand bits); an exact product
    below the smallest normal flushes to signed zero before rounding; rounding is ml_dtypes' / numpy's cast.
    """
    f = fmt(format)
    if overflow not in OVERFLOWS:
        raise ValueError(f"overflow must be one of {OVERFLOWS}, got {overflow!r}")
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    sign, nan, inf, zero = _specials(a, b, f, overflow)
    with np.errstate(invalid="ignore", over="ignore"):
        product = decode(a, f, daz=True) * decode(b, f, daz=True)
    regular = ~(nan | inf | zero)
    exact = np.where(regular, product, 1.0)
    under = np.abs(exact) < f.min_normal
    capped = np.where(np.abs(exact) > 2.0 * f.max_finite, np.sign(exact) * 2.0 * f.max_finite, exact)
    bits = round_to_format(np.where(under, f.min_normal, capped), f)
    rounded_over = bits < 0
    _, exp_field, man = fields(np.where(rounded_over, 0, bits), f)
    exp_field = np.where(rounded_over, f.max_exp_field + 1, exp_field)
    exp_field = np.where(under, 0, exp_field)
    return _finish(sign, exp_field, man, nan, inf, zero, f, overflow)
