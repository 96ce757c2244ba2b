"""The float adder and the dot-product model against numpy float32 arithmetic and float64 sums."""

import numpy as np
import pytest

from golden.dot import dot, fp_add, tree_sum, widen
from golden.fp import FORMATS, decode
from golden.lmul import exact_mul, lmul

# reference computations on NaN and infinity patterns warn by design
pytestmark = pytest.mark.filterwarnings("ignore:.*encountered in:RuntimeWarning")

FP32 = FORMATS["fp32"]


def test_fp_add_matches_numpy_float32_on_normal_results():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 1 << 32, 400_000)
    b = np.where(rng.random(400_000) < 0.5, a ^ rng.integers(0, 1 << 12, 400_000), rng.integers(0, 1 << 32, 400_000))
    fa = a.astype(np.uint32).view(np.float32)
    fb = b.astype(np.uint32).view(np.float32)
    normal = (np.abs(fa) >= np.float32(2**-126)) & (np.abs(fb) >= np.float32(2**-126))
    normal &= np.isfinite(fa) & np.isfinite(fb)
    with np.errstate(over="ignore", invalid="ignore"):
        reference = fa + fb
    exact = fa.astype(np.float64) + fb.astype(np.float64)
    regular = normal & np.isfinite(reference) & (np.abs(exact) >= 2**-126)
    got = fp_add(a, b, FP32)
    assert regular.sum() > 300_000
    assert np.array_equal(got[regular], reference.view(np.uint32).astype(np.int64)[regular])
    # near-cancellation at the bottom of the range: the exact difference is below the smallest normal
    tiny = (rng.integers(1, 3, 5000) << 23) | rng.integers(0, 1 << 23, 5000)
    other = tiny ^ (1 << 31) ^ rng.integers(1, 8, 5000)
    assert np.all(decode(fp_add(tiny, other, FP32), FP32) == 0)


def test_fp_add_special_values():
    inf, nan, neg = FP32.inf_bits, FP32.nan_bits, 1 << 31
    one = 127 << 23

    def add(x, y):
        return int(fp_add(np.array([x]), np.array([y]), FP32)[0])

    assert add(inf, inf | neg) == nan and add(inf, one | neg) == inf and add(one, inf | neg) == inf | neg
    assert add(nan, one) == nan
    assert add(neg, neg) == neg and add(0, neg) == 0 and add(one, one | neg) == 0
    assert add(1, one) == one  # a subnormal reads as zero
    big = FP32.max_finite_bits
    assert add(big, big) == inf
    assert int(fp_add(np.array([big]), np.array([big]), FP32, "saturate")[0]) == big


def test_widen_is_exact():
    f = FORMATS["bf16"]
    bits = np.arange(1 << 16)
    value = decode(bits, f, daz=True)
    wide = decode(widen(bits, f, FP32), FP32)
    assert np.array_equal(value, wide, equal_nan=True)


def test_tree_sum_order_is_pairwise():
    values = np.array([[(127 << 23), (127 << 23) | (1 << 31), (104 << 23), 0]])  # 1, -1, 2^-23, 0
    assert int(tree_sum(values, FP32)[0]) == (104 << 23)


@pytest.mark.parametrize("k, lanes", [(8, 8), (128, 8), (1024, 16), (96, 3)])
def test_dot_is_close_to_float64(k, lanes):
    rng = np.random.default_rng(k)
    f = FORMATS["bf16"]
    x = rng.standard_normal((20, k)).astype(np.float32)
    y = rng.standard_normal((20, k)).astype(np.float32)
    a = (x.view(np.uint32) >> 16).astype(np.int64)  # truncated to bf16 bit patterns
    b = (y.view(np.uint32) >> 16).astype(np.int64)
    got = decode(dot(a, b, f, lanes), FP32)
    products = decode(lmul(a, b, f), f)
    reference = products.sum(axis=1)
    scale = np.abs(products).sum(axis=1)
    assert np.all(np.abs(got - reference) <= 1e-5 * scale)


def test_dot_rejects_bad_shapes_and_formats():
    with pytest.raises(ValueError, match="multiple of lanes"):
        dot(np.zeros((1, 6)), np.zeros((1, 6)), "bf16", 4)
    with pytest.raises(ValueError, match="does not fit"):
        widen(np.zeros(1, np.int64), FP32, FORMATS["bf16"])


@pytest.mark.parametrize("partials", [1, 2, 3, 5])
@pytest.mark.parametrize("beats", [1, 2, 3, 4, 7, 11])
def test_partial_accumulators_take_beats_in_turn(partials, beats):
    """Beat i goes to accumulator i mod partials; the accumulators that got a beat are summed pairwise. Written
    out here with one addition at a time on the beat sums (``lanes = 1``: each beat sum is its product)."""
    rng = np.random.default_rng(partials * 100 + beats)
    f = FORMATS["bf16"]
    a = (rng.standard_normal((6, beats)).astype(np.float32).view(np.uint32) >> 16).astype(np.int64)
    one = np.full_like(a, 0x3F80)  # bf16 1.0: exact products, the beats are the operands widened
    got = dot(a, one, f, 1, multiplier="exact", partials=partials)
    wide = widen(a, f, FP32)
    for row in range(a.shape[0]):
        accumulators = []
        for beat in range(beats):
            if beat < partials:
                accumulators.append(int(wide[row, beat]))
            else:
                i = beat % partials
                accumulators[i] = int(fp_add(accumulators[i], wide[row, beat], FP32)[()])
        while len(accumulators) > 1:  # pairwise, an odd one out passed up
            pairs = [int(fp_add(accumulators[i], accumulators[i + 1], FP32)[()])
                     for i in range(0, len(accumulators) - 1, 2)]
            accumulators = pairs + accumulators[len(pairs) * 2:]
        assert int(got[row]) == accumulators[0]
    if partials == 1:
        assert np.array_equal(got, dot(a, one, f, 1, multiplier="exact"))


def test_partial_accumulators_sum_close_to_float64():
    rng = np.random.default_rng(7)
    f = FORMATS["bf16"]
    a = (rng.standard_normal((20, 256)).astype(np.float32).view(np.uint32) >> 16).astype(np.int64)
    b = (rng.standard_normal((20, 256)).astype(np.float32).view(np.uint32) >> 16).astype(np.int64)
    products = decode(exact_mul(a, b, f), f)
    scale = np.abs(products).sum(axis=1)
    for partials in (2, 5):
        got = decode(dot(a, b, f, 8, multiplier="exact", partials=partials), FP32)
        assert np.all(np.abs(got - products.sum(axis=1)) <= 1e-5 * scale)
    with pytest.raises(ValueError, match="partials"):
        dot(a, b, f, 8, partials=0)
