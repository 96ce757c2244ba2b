"""The L-Mul attention study's pieces: the operand conversion and the fast matmul against the dot unit's golden
model."""

import numpy as np
import pytest

from golden.attention_study import dot_matmul
from golden.dot import dot
from golden.fp import decode, fmt, saturate_to_format


@pytest.mark.parametrize("name", ["bf16", "e4m3"])
def test_to_format_rounds_flushes_and_saturates(name):
    f = fmt(name)
    largest = float(decode(np.int64(f.max_finite_bits), f))
    x = np.array([0.0, -0.0, 1.0, -1.5, f.min_normal / 3, -f.min_normal / 3, 4 * largest, -4 * largest, 1 / 3])
    got = decode(saturate_to_format(x, f), f)
    assert got[:4].tolist() == [0.0, 0.0, 1.0, -1.5] and np.signbit(got[1])
    assert got[4] == 0 and np.signbit(got[5]) and got[5] == 0
    assert got[6] == largest and got[7] == -largest
    assert abs(got[8] - 1 / 3) <= 2.0 ** -(f.man_bits + 2)


@pytest.mark.parametrize("name, multiplier, norm", [("bf16", "exact", "carry"), ("bf16", "lmul", "carry"),
                                                     ("e4m3", "lmul", "shift"), ("e4m3", "exact", "carry")])
def test_fast_matmul_is_the_dot_unit_up_to_its_fp32_roundings(name, multiplier, norm):
    """Same products; the unit's fp32 tree and accumulator round each of its K - 1 additions, the fast path
    rounds the exact sum once: they differ by at most K float32 ulps of the largest partial sum."""
    rng = np.random.default_rng(5)
    f = fmt(name)
    a = rng.normal(0, 4, size=(2, 6, 64)).astype(np.float32)
    b = rng.normal(0, 4, size=(2, 64, 5)).astype(np.float32)
    fast = dot_matmul(name, multiplier, norm)(a, b)
    for g in range(2):
        rows_a = np.repeat(saturate_to_format(a[g], f), 5, axis=0)
        rows_b = np.tile(saturate_to_format(b[g].T, f), (6, 1))
        unit = decode(dot(rows_a, rows_b, f, 8, "fp32", multiplier, norm), fmt("fp32")).reshape(6, 5)
        qa, qb = (np.abs(decode(saturate_to_format(v, f), f)) for v in (a[g], b[g]))
        products = qa[:, :, None] * qb[None]
        bound = 64 * products.sum(axis=1) * 2.0 ** -23
        assert (np.abs(unit - fast[g]) <= bound).all()
    reference = a @ b
    error = np.abs(fast - reference).mean() / np.abs(reference).mean()
    assert error < (0.005 if (name, multiplier) == ("bf16", "exact") else 0.15)
