"""The ternary golden model against plain numpy integer math."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden import ternary
from golden.intmath import signed_bits_for, wrap_signed


def test_codes_round_trip_and_reject_0b10():
    w = np.array([[-1, 0, 1], [1, 1, -1]])
    codes = ternary.encode_ternary(w)
    assert codes.tolist() == [[3, 0, 1], [1, 1, 3]]
    assert (ternary.decode_ternary(codes) == w).all()
    with pytest.raises(ValueError, match="0b10"):
        ternary.decode_ternary(np.array([0, 2]))
    with pytest.raises(ValueError):
        ternary.encode_ternary(np.array([2]))


def test_absmean_quantizer_matches_formula():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(64, 32))
    wt, gamma = ternary.quantize_weights_absmean(w)
    assert gamma == pytest.approx(np.abs(w).mean())
    expected = np.clip(np.round(w / (np.abs(w).mean() + 1e-5)), -1, 1)
    assert (wt == expected).all()
    assert set(np.unique(wt)) <= {-1, 0, 1}


def test_absmax_quantizer_per_token():
    x = np.array([[0.5, -1.0, 0.25], [0.0, 0.0, 0.0], [3.0, 2.0, -6.0]])
    q, scale = ternary.quantize_acts_absmax(x)
    assert q.tolist() == [[64, -127, 32], [0, 0, 0], [64, 42, -127]]
    assert scale.tolist() == pytest.approx([1 / 127, 0.0, 6 / 127])


@pytest.mark.parametrize("kind, k, expected", [("ternary", 1, 9), ("ternary", 16, 13), ("int8", 1, 16),
                                               ("int8", 256, 24)])
def test_acc_bits_is_the_smallest_safe_width(kind, k, expected):
    assert ternary.acc_bits_for(k, 8, kind) == expected
    lo, hi = ternary.product_range(8, kind)
    bits = ternary.acc_bits_for(k, 8, kind)
    assert -(1 << (bits - 1)) <= k * lo and k * hi < (1 << (bits - 1))
    assert not (-(1 << (bits - 2)) <= k * lo and k * hi < (1 << (bits - 2)))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 70), st.integers(1, 40), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_gemm_is_integer_matmul(t, k, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(t, k))
    w = rng.integers(-1, 2, size=(k, n))
    y = ternary.gemm(x, w)
    assert (y == np.array([[sum(int(x[a, b]) * int(w[b, c]) for b in range(k)) for c in range(n)]
                           for a in range(t)])).all()


def test_gemm_wraps_like_a_narrow_register():
    x = np.full((1, 4), 127)
    w = np.ones((4, 1), dtype=np.int64)
    assert ternary.gemm(x, w, acc_bits=8)[0, 0] == 508 - 512
    assert wrap_signed(np.array([128, -129, 5]), 8).tolist() == [-128, 127, 5]
    assert signed_bits_for(-128, 127) == 8 and signed_bits_for(-128, 128) == 9


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 20), st.integers(1, 6), st.integers(1, 6),
       st.integers(1, 8), st.sampled_from(["weight_stationary", "weight_streaming"]), st.integers(0, 2**32 - 1))
def test_stream_plan_reassembles_the_gemm(t, k, n, rows, cols, max_tokens, dataflow, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(t, k))
    w = rng.integers(-1, 2, size=(k, n))
    # weight_streaming: max_tokens stands in for the block of column tiles sharing an activation beat
    plan = ternary.stream_plan(x, w, rows, cols, dataflow, max_tokens, block_tiles=max_tokens)
    y = np.zeros((t, -(-n // cols) * cols), dtype=np.int64)
    seen = set()
    for (tok, j), beat in zip(plan.out_index, plan.out_beats, strict=True):
        assert (tok, j) not in seen
        seen.add((tok, j))
        y[tok, j * cols : (j + 1) * cols] = beat
    assert (y[:, :n] == x @ w).all()
    assert plan.nonzero_macs == ternary.nonzero_macs(t, w)
    k_tiles = -(-k // rows)
    if dataflow == "weight_stationary":
        assert sum(tile_end for *_, tile_end in plan.act_beats) * rows == len(plan.weight_beats)
        assert sum(last for _, _, last, _ in plan.act_beats) == len(plan.out_beats)
    else:
        n_tiles = -(-n // cols)
        assert len(plan.weight_beats) == len(plan.weight_ends) == t * n_tiles * k_tiles
        assert len(plan.act_beats) == t * -(-n_tiles // max_tokens) * k_tiles
        assert sum(plan.weight_ends) == len(plan.act_beats)
        # each activation beat's tiles follow it: tile (i, j) of a block pairs with the block's beat of k-tile i
        beat = -1
        for w_index, tile in enumerate(plan.weight_beats):
            if w_index == 0 or plan.weight_ends[w_index - 1]:
                beat += 1
            i = beat % k_tiles
            assert tile.shape == (rows, cols)
            assert np.array_equal(plan.act_beats[beat][0][: max(0, min(rows, k - i * rows))],
                                  x[(beat // k_tiles) // -(-n_tiles // max_tokens), i * rows : (i + 1) * rows])
        assert len(plan.out_beats) == t * n_tiles
