"""The SLT study's readers and comparison rows."""

import json
import struct

import numpy as np

from golden import slt, slt_study


def test_read_safetensors():
    a = np.arange(6, dtype="<f4").reshape(2, 3)
    header = json.dumps({"__metadata__": {}, "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}})
    raw = struct.pack("<Q", len(header)) + header.encode() + a.tobytes()
    assert (slt_study.read_safetensors(raw)["w"] == a).all()


def test_compare_row_is_consistent():
    rng = np.random.default_rng(0)
    w = slt.random_ternary(rng, 32, 96, 0.5)
    x = rng.integers(-128, 128, size=(1, 96))
    row = slt_study.compare("random", w, x, False)
    mac = slt.mac_gemv(w, 1, slt_study.MAC_ROWS, slt_study.MAC_COLS)
    assert row["mac_cycles"] == mac.cycles == 4 * 2
    assert row["mac_additions"] == np.count_nonzero(w)
    assert row["cycle_ratio"] == round(row["slt_cycles"] / row["mac_cycles"], 4)
    assert abs(row["sparsity"] - 0.5) < 1e-3
