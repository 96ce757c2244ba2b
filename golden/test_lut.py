"""The LUT tensor core golden model against plain integer math."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden import lut
from golden.intmath import wrap_signed

MODES = [("int", 1, None), ("int", 2, None), ("int", 3, None), ("int", 4, None), ("int", 2, 0), ("int", 3, 5),
         ("int", 4, 15), ("ternary", 2, None)]


def random_weights(rng, kind, bits, zp, shape):
    lo, hi = lut.weight_range(kind, bits, zp)
    w = rng.integers(lo, hi + 1, size=shape)
    if kind == "int" and bits == 1:
        w = np.where(w == 0, 1, w)
    return w


def test_table_entries_are_signed_sums_and_symmetric():
    x = np.array([3, -5, 7, 11])
    full = lut.full_table(x)
    for j in range(16):
        assert full[j] == sum(x[t] if (j >> t) & 1 else -x[t] for t in range(4))
        assert full[15 - j] == -full[j]
    half = lut.half_table(x)
    assert half.tolist() == full[:8].tolist()
    assert lut.symmetric_read(half, np.arange(16), 4).tolist() == full.tolist()


@pytest.mark.parametrize("kind, bits, zp", MODES)
def test_codes_round_trip(kind, bits, zp):
    rng = np.random.default_rng(bits)
    w = random_weights(rng, kind, bits, zp, (50,))
    codes = lut.encode_weights(w, kind, bits, zp)
    assert ((codes >= 0) & (codes < (1 << max(bits, 2)))).all()
    assert (lut.decode_weights(codes, kind, bits, zp) == w).all()
    q = lut.offset_codes(w, kind, bits, zp)
    z = lut.zero_point_of(kind, bits, zp)
    assert (q - z == w).all() if z is not None else (2 * q - 1 == w).all()


def test_bad_weights_are_rejected():
    with pytest.raises(ValueError, match="weights must be in"):
        lut.offset_codes(np.array([2]), "int", 2)
    with pytest.raises(ValueError, match="binary"):
        lut.offset_codes(np.array([0]), "int", 1)
    with pytest.raises(ValueError, match="0b10"):
        lut.decode_weights(np.array([2]), "ternary", 2)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(MODES), st.integers(1, 6), st.integers(1, 5), st.integers(1, 40), st.integers(1, 7),
       st.integers(0, 2**32 - 1))
def test_exact_lut_matmul_is_integer_matmul(mode, g, t, k, n, seed):
    kind, bits, zp = mode
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(t, k))
    w = random_weights(rng, kind, bits, zp, (k, n))
    assert (lut.lut_matmul(x, w, g, kind, bits, zp) == x @ w).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 40), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_base3_lut_matmul_is_integer_matmul(g, k, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(3, k))
    w = rng.integers(-1, 2, size=(k, n))
    assert (lut.lut_matmul(x, w, g, "ternary", 2, ternary_packing="base3") == x @ w).all()


def test_extremes_are_exact():
    for g in (2, 3, 4, 5):
        x = np.full((2, 40), -128)
        for kind, bits, zp in MODES:
            lo, hi = lut.weight_range(kind, bits, zp)
            for value in (lo, hi):
                w = np.full((40, 3), value)
                assert (lut.lut_matmul(x, w, g, kind, bits, zp) == x @ w).all()


def test_base3_codes_match_bitnet_tl2():
    # TL2: three weights as v = 9a + 3b + c (a the third), |v| in 0..13 plus a sign: 5 bits
    assert lut.base3_magnitude_max(3) == 13 and lut.base3_mag_bits(3) == 4
    assert lut.base3_magnitude_max(2) == 4  # TL1: 9 values
    w = np.array([[1, 1, 1], [-1, -1, -1], [0, 0, 1], [1, 0, -1], [0, 0, 0]])
    codes = lut.pack_base3(w)
    assert codes.tolist() == [13, 16 | 13, 9, 16 | 8, 0]
    assert (lut.unpack_base3(codes, 3) == w).all()
    with pytest.raises(ValueError, match="magnitude"):
        lut.unpack_base3(np.array([14]), 3)
    x = np.array([5, -7, 2])
    assert lut.base3_table(x)[13] == 0 and lut.base3_table(x)[1] == 5 and lut.base3_table(x)[3] == -7


def test_entry_width_covers_both_extremes():
    assert lut.entry_range(8, 4) == (-512, 512)
    assert lut.entry_bits(8, 4) == 11  # +512 needs the extra bit
    assert lut.entry_bits(8, 1) == 9


@pytest.mark.parametrize("g, table_bits, shift", [(4, 8, 3), (4, 11, 0), (4, 10, 1), (2, 8, 2), (5, 8, 3), (5, 7, 4)])
def test_table_shift_is_smallest_fitting(g, table_bits, shift):
    assert lut.table_shift(8, g, table_bits) == shift
    lo, hi = lut.entry_range(8, g)
    for s, fits in ((shift, True), (shift - 1, False)):
        if s < 0:
            continue
        inside = -(1 << (table_bits - 1)) <= lut.round_shift(lo, s) and lut.round_shift(hi, s) < 1 << (table_bits - 1)
        assert inside == fits


def test_round_shift_is_half_up():
    assert lut.round_shift(np.array([-6, -5, -4, -3, 3, 4, 5, 6]), 1).tolist() == [-3, -2, -2, -1, 2, 2, 3, 3]


def test_quantized_tables_follow_their_definition():
    """With table_bits the result is sum of mirrored, rounded entries scaled back, computed here directly."""
    rng = np.random.default_rng(5)
    g, bits, tb = 4, 2, 8
    x = rng.integers(-128, 128, size=(3, 16))
    w = rng.integers(-2, 2, size=(16, 5))
    s = lut.table_shift(8, g, tb)
    q = w + 2
    expected = np.zeros((3, 5), dtype=np.int64)
    for t in range(3):
        for col in range(5):
            d = -1 * x[t].sum()  # c2 = 3 - 2 * 2
            for grp in range(4):
                xs = x[t, grp * 4:(grp + 1) * 4]
                for i in range(bits):
                    j = sum(((q[grp * 4 + u, col] >> i) & 1) << u for u in range(4))
                    stored = [int(np.floor(sum(xs[u] if (e >> u) & 1 else -xs[u] for u in range(4)) / 2**s + 0.5))
                              for e in range(8)]
                    value = -stored[(~j) & 7] if j >= 8 else stored[j]
                    d += (value << s) << i
            expected[t, col] = d >> 1
    assert (lut.lut_matmul(x, w, g, "int", bits, table_bits=tb) == expected).all()


def test_wrapping_matches_a_narrow_accumulator():
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, size=(4, 64))
    w = rng.integers(-8, 8, size=(64, 3))
    assert (lut.lut_matmul(x, w, 4, "int", 4, acc_bits=12) == wrap_signed(x @ w, 12)).all()


@pytest.mark.parametrize("kind, bits, zp, k, expected", [("ternary", 2, None, 16, 13), ("int", 4, None, 1, 12),
                                                         ("int", 2, 0, 4, 12), ("int", 1, None, 1, 9)])
def test_acc_bits_for(kind, bits, zp, k, expected):
    assert lut.acc_bits_for(k, 8, kind, bits, zp) == expected


def test_table_error_is_small_and_shrinks_with_width():
    e8 = lut.table_error(table_bits=8, k=64, n=16, tokens=16)
    e10 = lut.table_error(table_bits=10, k=64, n=16, tokens=16)
    assert 0 < e10["mean_abs_error"] < e8["mean_abs_error"]
    assert e8["mean_error_over_rms"] < 0.1
    assert lut.table_error(table_bits=11, k=64, n=16, tokens=16)["max_abs_error"] == 0


def test_lut_study_writes_its_table(tmp_path):
    from golden import lut_study

    assert lut_study.main(["--out", str(tmp_path)]) == 0
    rows = __import__("json").loads((tmp_path / "lut_tables.json").read_text())
    assert len(rows) == len(lut_study.GROUPS) * len(lut_study.TABLE_BITS) * len(lut_study.WEIGHTS)
    assert "| ternary | 4 | 8 | 3 |" in (tmp_path / "lut_tables.md").read_text()


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(1, 12), st.integers(1, 40), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_tile_grouping(g, k_tile, k, tiles, seed):
    """Grouping per tile changes nothing when exact, and equals whole-K grouping when g divides the tile and
    the tile divides K."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(2, k))
    w = rng.integers(-1, 2, size=(k, 3))
    assert (lut.lut_matmul(x, w, g, "ternary", 2, k_tile=k_tile) == x @ w).all()
    x = rng.integers(-128, 128, size=(2, g * k_tile * tiles))
    w = rng.integers(-1, 2, size=(g * k_tile * tiles, 3))
    tiled = lut.lut_matmul(x, w, g, "ternary", 2, table_bits=7, k_tile=g * k_tile)
    assert (tiled == lut.lut_matmul(x, w, g, "ternary", 2, table_bits=7)).all()


def test_tile_grouping_matters_for_quantized_tables():
    x = np.zeros((1, 14), dtype=np.int64)
    x[0, 6], x[0, 7] = 1, 2
    w = np.ones((14, 1), dtype=np.int64)
    assert lut.lut_matmul(x, w, 3, "ternary", 2, table_bits=8, k_tile=7)[0, 0] != \
        lut.lut_matmul(x, w, 3, "ternary", 2, table_bits=8)[0, 0]
