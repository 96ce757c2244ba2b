"""The SLT engine golden model against plain integer math and independent counts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden import slt
from golden.intmath import wrap_signed

SPARSITIES = [0.0, 0.33, 0.5, 0.62, 0.75, 0.9, 1.0]


def test_compress_round_trip_and_modes():
    rng = np.random.default_rng(1)
    w = rng.integers(-2, 3, size=(20, 30)) * (rng.random((20, 30)) < 0.6)
    rows = slt.compress(w, 3)
    assert (slt.decompress(rows, 30, 3) == w).all()
    for r, groups in enumerate(rows):
        assert [grp.index for grp in groups] == [i for i in range(10) if w[r, 3 * i:3 * i + 3].any()]
        for grp in groups:
            vals = w[r, 3 * grp.index:3 * grp.index + 3]
            mags = np.abs(vals)
            assert (grp.mode == slt.LUT) == bool(mags.min() > 0 and mags.min() == mags.max())
            assert grp.nnz == np.count_nonzero(vals)
            assert grp.sign & ~grp.mask == 0 and grp.mag & ~grp.mask == 0


def test_compress_rejects_bad_input():
    with pytest.raises(ValueError, match="multiple of g"):
        slt.compress(np.zeros((2, 7)), 3)
    with pytest.raises(ValueError, match="-2..2"):
        slt.compress(np.full((1, 3), 3), 3)


def test_lut_entry_reads_the_signed_sum():
    x = np.array([5, -7, 3])
    full = x @ np.array([[1 if (j >> t) & 1 else -1 for t in range(3)] for j in range(8)]).T
    half = full[:4]
    for signs in range(8):
        grp = slt.Group(0, slt.LUT, 0b111, signs)
        entry, neg = slt.lut_entry(grp, 3)
        assert (-half[entry] if neg else half[entry]) == grp.values(3) @ x


def test_cluster_members_are_cheaper_deltas():
    rng = np.random.default_rng(2)
    w = slt.correlated_ternary(rng, 64, 48, 0.5, prototypes=4, flip=0.1)
    cl = slt.cluster(w, 8, 3)
    assert 0 < len(cl.centers) <= 8
    eff = cl.effective(w)
    assert np.abs(eff).max() <= 2
    own = slt.row_cycles(w, 3, 2)
    for i, c in enumerate(cl.center_of):
        if c >= 0:
            assert i not in cl.centers
            assert (eff[i] == w[i] - w[cl.centers[c]]).all()
            assert slt.row_cycles(eff[i:i + 1], 3, 2)[0] + 1 < own[i]
        else:
            assert (eff[i] == w[i]).all()
    assert slt.row_cycles(eff, 3, 2).sum() + (cl.center_of >= 0).sum() < own.sum()


def test_row_cycles_count_passes():
    w = np.array([[1, -1, 1, 0, 0, 0, 2, -1, 1, 0, 1, 0, 2, 2, -2]])
    assert slt.row_cycles(w, 3, 2).tolist() == [1 + 0 + 2 + 1 + 1]
    assert slt.row_cycles(w, 3, 1).tolist() == [1 + 0 + 3 + 1 + 1]


def test_cluster_of_unrelated_rows_may_keep_all_plain():
    w = np.eye(6, dtype=np.int64).repeat(3, axis=1)  # no two rows share a non-zero group
    assert slt.cluster(w, 4, 3).centers == ()


def params_cases():
    return [
        slt.Params(k=12, g=3, rows=4),
        slt.Params(k=12, g=3, rows=3, lanes=2),
        slt.Params(k=24, g=3, rows=2, lanes=3, read_ports=1),
        slt.Params(k=16, g=4, rows=4, lanes=2, read_ports=2),
        slt.Params(k=8, g=2, rows=5, read_ports=1, act_bits=4),
        slt.Params(k=15, g=5, rows=2, read_ports=3),
        slt.Params(k=12, g=3, rows=4, n_centers=4),
        slt.Params(k=12, g=3, rows=4, lanes=2, n_centers=3, act_bits=4),
        slt.Params(k=12, g=3, rows=4, weight_kind="binary"),
        slt.Params(k=12, g=3, rows=2, lanes=2, weight_kind="binary", n_centers=2),
    ]


def weights_for(rng, p, m, k, sparsity):
    if p.weight_kind == "binary":
        return rng.choice([-1, 1], size=(m, k))
    if p.n_centers:
        return slt.correlated_ternary(rng, m, k, sparsity, prototypes=3, flip=0.15)
    return slt.random_ternary(rng, m, k, sparsity)


def check_counts(program, x, y, cnt, w):
    """Counters against counts made directly from the weights and the schedule."""
    p = program.params
    tokens = np.atleast_2d(x).shape[0]
    eff = program.effective
    k = w.shape[1]
    assert (eff[:, :k] == program.clustering.effective(w)).all()
    pad = (p.weight_kind == "binary") & (program.clustering.center_of < 0)  # binary rows padded with +1
    assert (eff[:, k:] == pad[:, None]).all()
    grouped = eff.reshape(eff.shape[0], -1, p.g)
    nonzero = (grouped != 0).any(axis=2)
    mags = np.abs(grouped)
    lut = (mags.min(axis=2) > 0) & (mags.min(axis=2) == mags.max(axis=2))
    members = int((program.clustering.center_of >= 0).sum())
    assert cnt.table_builds == tokens * len(program.blocks) * program.tiles
    assert cnt.lut_groups == tokens * lut.sum()
    assert cnt.buffer_groups == tokens * (nonzero & ~lut).sum()
    slots = tokens * len(program.blocks) * program.tiles * p.rows * p.groups
    assert cnt.skipped == slots - tokens * nonzero.sum()
    assert cnt.reused == tokens * members
    buffer_nnz = int(np.count_nonzero(grouped[nonzero & ~lut]))
    assert cnt.additions == tokens * (lut.sum() + buffer_nnz + members)
    assert cnt.table_reads <= cnt.additions - cnt.reused
    beats = sum(len(b) for block in program.blocks for b in block.tiles)
    assert cnt.weight_beats == tokens * beats
    if (grouped[nonzero & ~lut] != 0).sum(axis=1).max(initial=0) <= p.read_ports:  # every Buffer group: one pass
        assert cnt.active_cycles == cnt.weight_beats
    assert cnt.cycles == 1 + cnt.active_cycles + slt.DRAIN_CYCLES


@pytest.mark.parametrize("p", params_cases(), ids=str)
@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_engine_equals_matmul(p, sparsity):
    rng = np.random.default_rng(int(sparsity * 100) + p.k * 7 + p.rows)
    m, k, tokens = 3 * p.rows + 1, 2 * p.k + p.g + 1, 3  # partial last block and tile, K not a multiple of g
    w = weights_for(rng, p, m, k, sparsity)
    x = rng.integers(-(1 << (p.act_bits - 1)), 1 << (p.act_bits - 1), size=(tokens, k))
    y, cnt, program = slt.gemv(w, x, p)
    assert (y == wrap_signed(x @ w.T, p.acc_width)).all()
    check_counts(program, x, y, cnt, w)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), case=st.integers(0, len(params_cases()) - 1),
       sparsity=st.floats(0, 1), balance=st.booleans())
def test_engine_random(seed, case, sparsity, balance):
    p = params_cases()[case]
    rng = np.random.default_rng(seed)
    m, k = int(rng.integers(1, 4 * p.rows)), int(rng.integers(1, 3 * p.k))
    w = weights_for(rng, p, m, k, sparsity)
    x = rng.integers(-(1 << (p.act_bits - 1)), 1 << (p.act_bits - 1), size=(2, k))
    y, cnt, program = slt.gemv(w, x, p, balance=balance)
    assert (y == x @ w.T).all()
    check_counts(program, x, y, cnt, w)


def test_extreme_activations_and_narrow_accumulator():
    p = slt.Params(k=12, g=3, rows=4, acc_bits=10)
    w = np.ones((4, 48), dtype=np.int64)
    x = np.full((1, 48), -128)
    y, _, _ = slt.gemv(w, x, p)
    assert (y == wrap_signed(x @ w.T, 10)).all()


def test_shared_reads_counted_once():
    p = slt.Params(k=6, g=3, rows=4)
    w = np.tile(np.array([[1, -1, 1, 1, 0, -1]]), (4, 1))  # every row reads the same LUT and Buffer entries
    _, cnt, _ = slt.gemv(w, np.arange(6)[None, :], p)
    assert cnt.table_reads == 3  # one table entry (group 0) and two raw activations (group 1)
    assert cnt.additions == 4 * 3


def test_buffer_passes_with_one_read_port():
    p = slt.Params(k=4, g=4, rows=1, read_ports=1)
    w = np.array([[1, 0, -1, 1]])  # a Buffer group of 3 non-zeros: 3 passes
    y, cnt, _ = slt.gemv(w, np.array([[5, 6, 7, 8]]), p)
    assert y[0, 0] == 5 - 7 + 8
    assert cnt.active_cycles == 3 and cnt.weight_beats == 1 and cnt.table_reads == 3


def test_zero_matrix_costs_one_beat_per_tile():
    p = slt.Params(k=6, g=3, rows=2)
    _, cnt, _ = slt.gemv(np.zeros((4, 12), dtype=np.int64), np.ones((1, 12), dtype=np.int64), p)
    assert cnt.weight_beats == 2 * 2 and cnt.additions == 0 and cnt.table_reads == 0
    assert cnt.skipped == 2 * 2 * 2 * 2


def test_cycles_fall_with_sparsity():
    p = slt.Params(k=48, g=3, rows=16, lanes=4)
    rng = np.random.default_rng(5)
    x = rng.integers(-128, 128, size=(1, 192))
    cycles = [slt.gemv(slt.random_ternary(rng, 64, 192, s), x, p)[1].cycles for s in SPARSITIES]
    assert cycles == sorted(cycles, reverse=True)


def test_binary_rejects_zeros_and_schedule_checks_centers():
    with pytest.raises(ValueError, match="binary"):
        slt.schedule(np.zeros((2, 6)), slt.Params(k=6, g=3, weight_kind="binary"))
    w = slt.correlated_ternary(np.random.default_rng(0), 16, 12, 0.3, 2, 0.1)
    with pytest.raises(ValueError, match="n_centers"):
        slt.schedule(w, slt.Params(k=12, g=3, n_centers=0), slt.cluster(w, 2, 3))


def test_members_come_after_their_centers():
    rng = np.random.default_rng(3)
    p = slt.Params(k=12, g=3, rows=4, n_centers=5)
    w = slt.correlated_ternary(rng, 40, 24, 0.4, prototypes=5, flip=0.1)
    _, _, program = slt.gemv(w, np.ones((1, 24), dtype=np.int64), p)
    seen = set()
    for block in program.blocks:
        for r, role in enumerate(block.roles):
            if role == slt.MEMBER:
                assert block.centers[r] in seen
        seen |= {block.centers[r] for r, role in enumerate(block.roles) if role == slt.CENTER}


def test_table_build_additions():
    assert [slt.table_build_additions(g) for g in (1, 2, 3, 4)] == [0, 2, 6, 14]


def test_mac_gemv_model():
    w = np.array([[1, 0, -1], [0, 0, 1]])
    mac = slt.mac_gemv(w, 2, rows=2, cols=2)
    assert mac.cycles == 2 * 2 and mac.additions == 2 * 3 and mac.weight_writes == 4 * 4


def _stream_transitions(program: slt.Program) -> int:
    """Bits that change from beat to beat in every slot's stream fields over the whole program."""
    p = program.params
    last = np.zeros((p.rows, p.lanes), dtype=np.int64)
    flips = 0
    for block in program.blocks:
        for beats in block.tiles:
            for beat in beats:
                for r, row in enumerate(beat.items):
                    for lane, item in enumerate(row):
                        bits = slt.item_bits(item, p.group_bits, p.g)
                        flips += (bits ^ int(last[r, lane])).bit_count()
                        last[r, lane] = bits
    return flips


@pytest.mark.parametrize("lanes", [1, 2, 4])
@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.9])
def test_index_reordering_keeps_results_and_cuts_transitions(lanes, sparsity):
    """Reordering permutes each pass's items within its lane bank: the same outputs, the same items per block,
    tile and slot, and fewer bit transitions on the stream than along K (a greedy walk: no more, in general, is
    not guaranteed, so the suite checks it on these cases)."""
    rng = np.random.default_rng(7)
    p = slt.Params(k=24, g=3, rows=4, lanes=lanes, read_ports=2)
    w, x = slt.random_ternary(rng, 19, 100, sparsity), rng.integers(-128, 128, size=(2, 100))
    y0, c0, plain = slt.gemv(w, x, p)
    y1, c1, reordered = slt.gemv(w, x, p, reorder=True)
    assert (y1 == y0).all() and (y0 == x @ w.T).all()
    for b0, b1 in zip(plain.blocks, reordered.blocks, strict=True):
        for t0, t1 in zip(b0.tiles, b1.tiles, strict=True):
            assert len(t0) == len(t1)
            for r in range(p.rows):
                for lane in range(p.lanes):
                    items = [sorted((it.index, it.mask, it.sign) for beat in beats
                                    if (it := beat.items[r][lane]) is not None) for beats in (t0, t1)]
                    assert items[0] == items[1]
    assert c1.additions == c0.additions and c1.weight_beats == c0.weight_beats
    assert _stream_transitions(reordered) < _stream_transitions(plain)
