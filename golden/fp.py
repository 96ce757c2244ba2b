"""Floating-point formats ``(exp_bits, man_bits)``: fields, special values, decoding and rounding.

Spec: ``conventions.md`` (formats) and ``lmul.md`` (special values, DAZ/FTZ). The named formats follow
ml_dtypes / numpy exactly: ``e4m3`` is OCP FP8 E4M3FN (no infinities, NaN = S.1111.111, max 448), the others are
IEEE-like (exponent all ones: infinity or NaN). Any other ``(exp_bits, man_bits)`` is IEEE-like.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import ml_dtypes
import numpy as np


@dataclass(frozen=True)
class FloatFormat:
    exp_bits: int
    man_bits: int
    has_inf: bool = True  # False: E4M3FN-style, the all-ones exponent is finite except S.1..1.1..1 = NaN

    def __post_init__(self) -> None:
        if not 2 <= self.exp_bits <= 11 or not 1 <= self.man_bits <= 52:
            raise ValueError(f"format e{self.exp_bits}m{self.man_bits} out of range (exp_bits 2..11, man_bits 1..52)")

    @property
    def width(self) -> int:
        return 1 + self.exp_bits + self.man_bits

    @property
    def bias(self) -> int:
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def exp_all_ones(self) -> int:
        return (1 << self.exp_bits) - 1

    @property
    def max_exp_field(self) -> int:
        """Largest exponent field of a finite number."""
        return self.exp_all_ones if not self.has_inf else self.exp_all_ones - 1

    @property
    def max_finite_bits(self) -> int:
        man = (1 << self.man_bits) - (2 if not self.has_inf else 1)
        return (self.max_exp_field << self.man_bits) | man

    @property
    def nan_bits(self) -> int:
        """The NaN this project's blocks produce (positive, quiet, all mantissa bits set)."""
        return (self.exp_all_ones << self.man_bits) | ((1 << self.man_bits) - 1)

    @property
    def inf_bits(self) -> int | None:
        return (self.exp_all_ones << self.man_bits) if self.has_inf else None

    @cached_property
    def min_normal(self) -> float:
        return 2.0 ** (1 - self.bias)

    @cached_property
    def max_finite(self) -> float:
        return float(decode(np.array([self.max_finite_bits]), self)[0])

    @property
    def dtype(self):
        """The ml_dtypes / numpy dtype of this exact format, or None."""
        return _DTYPES.get((self.exp_bits, self.man_bits, self.has_inf))


FORMATS: dict[str, FloatFormat] = {
    "e4m3": FloatFormat(4, 3, has_inf=False),
    "e5m2": FloatFormat(5, 2),
    "fp16": FloatFormat(5, 10),
    "bf16": FloatFormat(8, 7),
    "fp32": FloatFormat(8, 23),
}
_DTYPES = {
    (4, 3, False): ml_dtypes.float8_e4m3fn,
    (5, 2, True): ml_dtypes.float8_e5m2,
    (5, 10, True): np.float16,
    (8, 7, True): ml_dtypes.bfloat16,
    (8, 23, True): np.float32,
}


def fmt(name_or_format: str | FloatFormat) -> FloatFormat:
    if isinstance(name_or_format, FloatFormat):
        return name_or_format
    if name_or_format in FORMATS:
        return FORMATS[name_or_format]
    raise ValueError(f"unknown float format {name_or_format!r}; named formats: {', '.join(FORMATS)}")


def fields(bits: np.ndarray, f: FloatFormat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sign, exponent field and mantissa field of each bit pattern (int64 arrays)."""
    bits = np.asarray(bits, dtype=np.int64)
    return (bits >> (f.width - 1)) & 1, (bits >> f.man_bits) & f.exp_all_ones, bits & ((1 << f.man_bits) - 1)


def pack(sign: np.ndarray, exp: np.ndarray, man: np.ndarray, f: FloatFormat) -> np.ndarray:
    return (np.asarray(sign, np.int64) << (f.width - 1)) | (np.asarray(exp, np.int64) << f.man_bits) | man


def is_nan(bits: np.ndarray, f: FloatFormat) -> np.ndarray:
    _, e, m = fields(bits, f)
    if f.has_inf:
        return (e == f.exp_all_ones) & (m != 0)
    return (e == f.exp_all_ones) & (m == (1 << f.man_bits) - 1)


def is_inf(bits: np.ndarray, f: FloatFormat) -> np.ndarray:
    _, e, m = fields(bits, f)
    if not f.has_inf:
        return np.zeros(np.shape(bits), dtype=bool)
    return (e == f.exp_all_ones) & (m == 0)


def decode(bits: np.ndarray, f: FloatFormat, daz: bool = False) -> np.ndarray:
    """Bit patterns to float64 values (exact: every format here fits float64). ``daz`` reads subnormals as 0."""
    s, e, m = fields(bits, f)
    sign = np.where(s == 1, -1.0, 1.0)
    normal = np.ldexp(1.0 + m / float(1 << f.man_bits), (e - f.bias).astype(np.int64))
    sub = 0.0 if daz else np.ldexp(m / float(1 << f.man_bits), 1 - f.bias)
    value = np.where(e == 0, sub, normal) * sign
    value = np.where(is_inf(bits, f), sign * np.inf, value)
    return np.where(is_nan(bits, f), np.nan, value)


def round_to_format(x: np.ndarray, f: FloatFormat) -> np.ndarray:
    """Round float64 values with ``min_normal <= |x| <= max_finite`` range to ``f`` (round to nearest, ties to
    even), returning bit patterns; a value that rounds above the largest finite number returns -1.

    Named formats go through ml_dtypes / numpy; other formats, and values that float32 cannot hold exactly
    (ml_dtypes would round them twice), are rounded by :func:`round_generic`, which is tested against
    ml_dtypes on the named formats.
    """
    x = np.asarray(x, dtype=np.float64)
    if f.dtype is None:
        return round_generic(x, f)
    # ml_dtypes converts float64 through float32 (a double rounding: seen on bf16), so it only gets the values
    # that float32 holds exactly; the rest take the single-rounding path below. numpy's own casts round once.
    via_float32 = f.dtype not in (np.float16, np.float32)
    with np.errstate(over="ignore"):
        source = x.astype(np.float32) if via_float32 else x
        rounded = source.astype(f.dtype)
    bits = rounded.view(np.uint8 if f.width == 8 else np.uint16 if f.width == 16 else np.uint32).astype(np.int64)
    wide = rounded.astype(np.float64)
    bits = np.where(~np.isfinite(wide) | (np.abs(wide) > f.max_finite), -1, bits)
    if via_float32:
        inexact = source.astype(np.float64) != x
        if inexact.any():  # only those take the slower generic rounding
            if bits.ndim == 0:
                return round_generic(x, f)
            bits[inexact] = round_generic(x[inexact], f)
    return bits


def saturate_to_format(x: np.ndarray, f: FloatFormat) -> np.ndarray:
    """Any float values as bit patterns of ``f``: round to nearest even, magnitudes below the smallest normal to
    signed zero (the blocks read subnormals as zero), above the largest finite value to it (a saturating
    conversion, as fp8 conversions usually are)."""
    x = np.clip(np.asarray(x, dtype=np.float64), -f.max_finite, f.max_finite)
    tiny = np.abs(x) < f.min_normal
    bits = round_to_format(np.where(tiny, f.min_normal, x), f)
    bits = np.where(bits == -1, f.max_finite_bits | (np.signbit(x).astype(np.int64) << (f.width - 1)), bits)
    return np.where(tiny, np.signbit(x).astype(np.int64) << (f.width - 1), bits)


def round_generic(x: np.ndarray, f: FloatFormat) -> np.ndarray:
    """The rounding of :func:`round_to_format` for formats ml_dtypes does not have (same contract)."""
    x = np.asarray(x, dtype=np.float64)
    frac, exp2 = np.frexp(np.abs(x))  # |x| = frac * 2^exp2, frac in [0.5, 1)
    significand = np.rint(np.ldexp(frac, f.man_bits + 1))  # in [2^m, 2^(m+1)], ties to even
    carry = significand >= (1 << (f.man_bits + 1))
    significand = np.where(carry, significand / 2, significand).astype(np.int64)
    exp_field = exp2 - 1 + f.bias + carry
    bits = pack((x < 0).astype(np.int64), exp_field, significand - (1 << f.man_bits), f)
    overflow = exp_field > f.max_exp_field
    if not f.has_inf:
        overflow |= is_nan(bits, f)
    return np.where(overflow, -1, bits)
