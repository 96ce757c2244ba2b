"""Golden models of the float adder and of the L-Mul dot-product unit (spec: ``lmul.md``, block 3).

The summation order and every rounding are fixed here, so that the RTL can match bit for bit:
products in the operand format (L-Mul or exact) are widened exactly to the accumulator format, the ``lanes``
products of a beat are summed by a balanced pairwise tree (lane 2i + lane 2i+1, level by level; an odd lane
out passes up unchanged), and the beat's sum is added to the running accumulator (the first beat of a dot
product starts it), or to one of several accumulators taken in turn, which the same pairwise tree sums at the
end. Every addition rounds to nearest, ties to even, in the accumulator format, reads subnormals as zero and
flushes an exact sum below the smallest normal to signed zero.
"""

from __future__ import annotations

import numpy as np

from .fp import FloatFormat, decode, fields, fmt, is_inf, is_nan, pack, round_to_format
from .lmul import OVERFLOWS, exact_mul, lmul


def fp_add(a: np.ndarray, b: np.ndarray, format: str | FloatFormat, overflow: str = "inf") -> np.ndarray:
    """Correctly rounded sum of bit patterns (RNE), DAZ on inputs, FTZ on the exact sum, IEEE zero signs.

    The float64 sum of two operands of at most 24 significand bits rounds to the format exactly as a direct
    rounding would (53 >= 2 x 24 + 2, so the double rounding is innocuous).
    """
    f = fmt(format)
    if overflow not in OVERFLOWS:
        raise ValueError(f"overflow must be one of {OVERFLOWS}, got {overflow!r}")
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    sa, ea, _ = fields(a, f)
    sb, eb, _ = fields(b, f)
    nan = is_nan(a, f) | is_nan(b, f) | (is_inf(a, f) & is_inf(b, f) & (sa != sb))
    inf = (is_inf(a, f) | is_inf(b, f)) & ~nan
    inf_sign = np.where(is_inf(a, f), sa, sb)
    with np.errstate(invalid="ignore"):
        exact = np.where(nan | inf, 0.0, decode(a, f, daz=True) + decode(b, f, daz=True))
    zero_sign = np.where((ea == 0) & (eb == 0), sa & sb, 0)  # (-0) + (-0) = -0, x + (-x) = +0
    sign = np.where(inf, inf_sign, np.where(exact == 0, zero_sign, (exact < 0).astype(np.int64)))
    tiny = np.abs(exact) < f.min_normal
    capped = np.clip(exact, -2.0 * f.max_finite, 2.0 * f.max_finite)
    bits = round_to_format(np.where(tiny, f.min_normal, capped), f)
    over = bits < 0
    _, exp_field, man = fields(np.where(over | tiny, 0, bits), f)
    big = f.inf_bits if (f.has_inf and overflow == "inf") else f.max_finite_bits
    out = pack(sign, exp_field, man, f)
    out = np.where(over, (sign << (f.width - 1)) | big, out)
    out = np.where(tiny, sign << (f.width - 1), out)
    out = np.where(inf, (sign << (f.width - 1)) | (f.inf_bits if f.has_inf else f.max_finite_bits), out)
    return np.where(nan, f.nan_bits, out).astype(np.int64)


def widen(bits: np.ndarray, source: FloatFormat, target: FloatFormat) -> np.ndarray:
    """Exact conversion of normal numbers, zeros, infinities and NaN to a format at least as wide."""
    if source.exp_bits > target.exp_bits or source.man_bits > target.man_bits:
        raise ValueError(f"e{source.exp_bits}m{source.man_bits} does not fit e{target.exp_bits}m{target.man_bits}")
    s, e, m = fields(bits, source)
    shifted = m << (target.man_bits - source.man_bits)
    out = pack(s, np.where(e == 0, 0, e - source.bias + target.bias), np.where(e == 0, 0, shifted), target)
    out = np.where(is_inf(bits, source), (s << (target.width - 1)) | target.inf_bits, out)
    return np.where(is_nan(bits, source), target.nan_bits, out)


def tree_sum(values: np.ndarray, f: FloatFormat, overflow: str = "inf") -> np.ndarray:
    """Balanced pairwise sum over the last axis, in the fixed order the RTL's adder tree uses."""
    level = [values[..., i] for i in range(values.shape[-1])]
    while len(level) > 1:
        paired = [fp_add(level[i], level[i + 1], f, overflow) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def dot(a: np.ndarray, b: np.ndarray, format: str | FloatFormat, lanes: int, acc_format: str | FloatFormat = "fp32",
        multiplier: str = "lmul", norm: str = "carry", overflow: str = "inf", partials: int = 1) -> np.ndarray:
    """Dot products of the rows of ``a`` and ``b`` (``T x K`` bit patterns, ``K`` a multiple of ``lanes``) as
    the dot-product unit computes them: ``K / lanes`` beats per row. Returns accumulator-format bit patterns.

    ``partials`` accumulators take the beats in turn (beat ``i`` into accumulator ``i mod partials``, each
    started by its first beat, not added to zero), and the accumulators that received a beat are summed by the
    pairwise tree at the end. With one accumulator (the default) every beat adds to the previous result."""
    if partials < 1:
        raise ValueError(f"partials must be >= 1, got {partials}")
    f, acc = fmt(format), fmt(acc_format)
    a, b = np.atleast_2d(np.asarray(a, np.int64)), np.atleast_2d(np.asarray(b, np.int64))
    if a.shape[-1] % lanes:
        raise ValueError(f"K = {a.shape[-1]} is not a multiple of lanes = {lanes}")
    if multiplier == "lmul":
        products = lmul(a, b, f, norm, overflow)
    elif multiplier == "exact":
        products = exact_mul(a, b, f, overflow)
    else:
        raise ValueError(f"multiplier must be 'lmul' or 'exact', got {multiplier!r}")
    beats = widen(products, f, acc).reshape(a.shape[0], -1, lanes)
    sums = [tree_sum(beats[:, beat, :], acc, overflow) for beat in range(beats.shape[1])]
    accumulators = sums[:partials]
    for beat in range(partials, len(sums)):
        accumulators[beat % partials] = fp_add(accumulators[beat % partials], sums[beat], acc, overflow)
    return tree_sum(np.stack(accumulators, axis=-1), acc, overflow)
