"""SLT engine cocotb benches over binary and ternary weights, g, lanes, read ports and output reuse, on each
simulator."""

import pytest

from verif.runner import bench_cases, emit_design, run_bench, simulators

DESIGNS = [
    ("slt-small", {}),
    ("slt-small", {"rows": 3, "lanes": 2, "n_centers": 4, "act_bits": 4}),
    ("slt-small", {"weight_kind": "binary", "lanes": 2}),
    ("slt-small", {"weight_kind": "binary", "n_centers": 2, "rows": 2, "lanes": 4}),
    ("slt-small", {"g": 4, "k": 16, "read_ports": 1, "n_centers": 3, "lanes": 3}),
    ("slt-small", {"g": 2, "k": 8, "read_ports": 1, "rows": 5, "acc_bits": 12}),
    ("slt-small", {"g": 5, "k": 15, "read_ports": 3, "rows": 2, "act_bits": 16, "n_centers": 2}),
]


@pytest.mark.parametrize("sim", simulators())
@pytest.mark.parametrize("preset, overrides", bench_cases(DESIGNS))
def test_slt_bench(preset, overrides, sim):
    run_bench(emit_design(preset, overrides), "verif.slt.bench", sim=sim)
