"""L-Mul and exact-multiplier golden models against ml_dtypes, numpy and the paper's formula in float64."""

import ml_dtypes
import numpy as np
import pytest

from golden.fp import FORMATS, FloatFormat, decode, fields, round_generic, round_to_format
from golden.lmul import exact_mul, lmul, offset_exponent

# reference computations on NaN and infinity patterns warn by design
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")

EIGHT_BIT = ["e4m3", "e5m2"]


def all_pairs(f):
    a, b = np.meshgrid(np.arange(1 << f.width), np.arange(1 << f.width), indexing="ij")
    return a.ravel(), b.ravel()


def random_bits(f, n, seed=0):
    return np.random.default_rng(seed).integers(0, 1 << f.width, n)


@pytest.mark.parametrize("name", list(FORMATS))
def test_decode_matches_ml_dtypes(name):
    f = FORMATS[name]
    bits = np.arange(1 << f.width) if f.width <= 16 else random_bits(f, 200_000)
    view = {8: np.uint8, 16: np.uint16, 32: np.uint32}[f.width]
    reference = bits.astype(view).view(f.dtype).astype(np.float64)
    ours = decode(bits, f)
    assert np.array_equal(ours, reference, equal_nan=True)


@pytest.mark.parametrize("name", list(FORMATS))
def test_generic_rounding_matches_ml_dtypes(name):
    f = FORMATS[name]
    rng = np.random.default_rng(1)
    x = rng.normal(size=200_000) * np.exp2(rng.integers(-f.bias + 2, f.bias, 200_000))
    x = x[(np.abs(x) >= f.min_normal) & (np.abs(x) <= f.max_finite)]
    mids = decode(np.arange(0x10, 0x60), FORMATS["e4m3"]) * 1.0625 if f.width == 8 else np.array([])
    x = np.concatenate([x, mids[(np.abs(mids) >= f.min_normal) & (np.abs(mids) <= f.max_finite)]])
    assert np.array_equal(round_generic(x, f), round_to_format(x, f))


def test_offset_exponent_is_the_papers_l_of_m():
    assert [offset_exponent(m) for m in range(1, 9)] == [1, 2, 3, 3, 4, 4, 4, 4]


def _normal_pairs(f, a, b):
    _, ea, _ = fields(a, f)
    _, eb, _ = fields(b, f)
    ok = (ea > 0) & (eb > 0) & (ea < f.exp_all_ones) & (eb < f.exp_all_ones)
    return a[ok], b[ok]


@pytest.mark.parametrize("norm", ["carry", "shift"])
@pytest.mark.parametrize("name", EIGHT_BIT + ["bf16", "fp16", "fp32"])
def test_lmul_is_the_papers_formula(name, norm):
    f = FORMATS[name]
    a, b = all_pairs(f) if f.width == 8 else (random_bits(f, 300_000, 2), random_bits(f, 300_000, 3))
    a, b = _normal_pairs(f, a, b)
    m = f.man_bits
    sa, ea, ma = fields(a, f)
    sb, eb, mb = fields(b, f)
    frac = 1.0 + ma / 2**m + mb / 2**m + 2.0 ** -offset_exponent(m)
    exponent = (ea - f.bias + eb - f.bias).astype(np.int64)
    if norm == "carry":
        # the integer add carries floor(xm + ym + 2^-l) into the exponent: 1 or, for m >= 5, even 2
        carried = np.floor(frac - 1)
        frac, exponent = frac - carried, exponent + carried.astype(np.int64)
    else:
        frac = np.where(frac >= 2, np.floor(frac * 2**m / 2) * 2 / 2**m, frac)
    expected = np.where(sa ^ sb, -1.0, 1.0) * np.ldexp(frac, exponent)
    got = decode(lmul(a, b, f, norm), f)
    in_range = (np.abs(expected) >= f.min_normal) & (np.abs(expected) <= f.max_finite)
    if not f.has_inf:
        in_range &= np.abs(expected) < f.max_finite * (1 + 2.0**-m)
    assert in_range.sum() > 0.3 * len(a)
    assert np.array_equal(got[in_range], expected[in_range])
    big = np.abs(expected) > f.max_finite
    assert np.all(np.abs(got[big]) == (np.inf if f.has_inf else f.max_finite))
    assert np.all(got[np.abs(expected) < f.min_normal] == 0)


@pytest.mark.parametrize("name", EIGHT_BIT)
def test_exact_mul_matches_ml_dtypes_exhaustively(name):
    f = FORMATS[name]
    a, b = all_pairs(f)
    ref_a = a.astype(np.uint8).view(f.dtype).astype(np.float32)
    ref_b = b.astype(np.uint8).view(f.dtype).astype(np.float32)
    reference = (ref_a * ref_b).astype(f.dtype)
    exact = decode(a, f, daz=True) * decode(b, f, daz=True)
    got = exact_mul(a, b, f)
    regular = np.isfinite(exact) & (np.abs(exact) >= f.min_normal) & np.isfinite(reference.astype(np.float64))
    regular &= np.abs(reference.astype(np.float64)) <= f.max_finite
    assert regular.sum() > 20_000
    assert np.array_equal(got[regular], reference.view(np.uint8).astype(np.int64)[regular])
    tiny = np.isfinite(exact) & (exact != 0) & (np.abs(exact) < f.min_normal)
    assert np.all(decode(got[tiny], f) == 0)


@pytest.mark.parametrize("name", ["bf16", "fp16", "fp32"])
def test_exact_mul_matches_numpy_on_random_pairs(name):
    f = FORMATS[name]
    a, b = _normal_pairs(f, random_bits(f, 300_000, 4), random_bits(f, 300_000, 5))
    view = {16: np.uint16, 32: np.uint32}[f.width]
    product = a.astype(view).view(f.dtype).astype(np.float64) * b.astype(view).view(f.dtype).astype(np.float64)
    regular = (np.abs(product) >= f.min_normal) & (np.abs(product) <= f.max_finite)
    got = exact_mul(a, b, f)
    reference = product.astype(f.dtype).view(view).astype(np.int64)
    assert np.array_equal(got[regular], reference[regular])


@pytest.mark.parametrize("kind", ["lmul-carry", "lmul-shift", "exact"])
@pytest.mark.parametrize("name", list(FORMATS))
def test_special_values(kind, name):
    f = FORMATS[name]

    def mul(a, b, overflow="inf"):
        a, b = np.array([a]), np.array([b])
        if kind == "exact":
            return int(exact_mul(a, b, f, overflow)[0])
        return int(lmul(a, b, f, kind.split("-")[1], overflow)[0])

    one = f.bias << f.man_bits
    neg = 1 << (f.width - 1)
    sub = 1  # smallest subnormal: read as zero
    assert mul(one, 0) == 0 and mul(one | neg, 0) == neg and mul(sub, one | neg) == neg
    assert mul(f.nan_bits, one) == f.nan_bits and mul(one, f.nan_bits | neg) == f.nan_bits
    big = f.max_finite_bits
    if f.has_inf:
        assert mul(f.inf_bits, one | neg) == f.inf_bits | neg
        assert mul(f.inf_bits, 0) == f.nan_bits
        assert mul(big, big) == f.inf_bits
        assert mul(big, big | neg, "saturate") == big | neg
    else:
        assert mul(big, big) == big and mul(big | neg, big) == big | neg
    tiny = 1 << f.man_bits  # smallest normal: its square underflows
    assert mul(tiny, tiny) == 0 and mul(tiny | neg, tiny) == neg
    assert mul(one, one) == one or kind.startswith("lmul")


def test_e4m3_never_produces_the_nan_pattern_from_finite_operands():
    f = FORMATS["e4m3"]
    a, b = all_pairs(f)
    finite = (a & 0x7F) != 0x7F
    finite &= (b & 0x7F) != 0x7F
    for result in (lmul(a, b, f, "carry"), lmul(a, b, f, "shift"), exact_mul(a, b, f)):
        assert not np.any((result[finite] & 0x7F) == 0x7F)


def test_unknown_options_are_rejected():
    with pytest.raises(ValueError, match="norm"):
        lmul(np.array([0]), np.array([0]), "bf16", norm="round")
    with pytest.raises(ValueError, match="unknown float format"):
        lmul(np.array([0]), np.array([0]), "fp8")
    with pytest.raises(ValueError, match="format"):
        FloatFormat(1, 3)
    assert ml_dtypes.finfo(ml_dtypes.float8_e4m3fn).max == FORMATS["e4m3"].max_finite
