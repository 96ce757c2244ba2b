"""MAC array cocotb benches on several shapes, both weight kinds and both dataflows, on each simulator."""

import pytest

from verif.runner import bench_cases, emit_design, run_bench, simulators

DESIGNS = [
    ("mac-ternary-4x4", {}),
    ("mac-int8-4x4", {}),
    ("mac-ternary-4x4", {"rows": 3, "cols": 5, "max_tokens": 4}),
    ("mac-ternary-4x4", {"rows": 1, "cols": 4, "max_tokens": 2}),
    ("mac-ternary-4x4", {"rows": 4, "cols": 1, "max_tokens": 1}),
    ("mac-ternary-4x4", {"acc_bits": 10}),
    ("mac-int8-4x4", {"max_k": 64, "max_tokens": 2}),
    ("mac-ternary-16x16", {}),
    ("mac-int8-16x16", {"max_tokens": 8}),
    ("mac-ternary-gemv-16x16", {"rows": 8, "cols": 4}),
    ("mac-int8-gemv-16x16", {"rows": 4, "cols": 3}),
    ("mac-ternary-4x4", {"tree_stages": 2, "rows": 3, "max_tokens": 3}),
    ("mac-int8-gemv-16x16", {"rows": 8, "cols": 2, "tree_stages": 1}),
    # a pipeline that never stalls: output queue and credits (one weight row a tile: the switch-cycle slot)
    ("mac-ternary-4x4", {"backpressure": "credit", "tree_stages": 2, "rows": 3, "max_tokens": 3}),
    ("mac-ternary-4x4", {"backpressure": "credit", "rows": 1, "cols": 4, "max_tokens": 2}),
    ("mac-int8-gemv-16x16", {"backpressure": "credit", "rows": 4, "cols": 3}),
]


@pytest.mark.parametrize("sim", simulators())
@pytest.mark.parametrize("preset, overrides", bench_cases(DESIGNS))
def test_mac_array_bench(preset, overrides, sim):
    run_bench(emit_design(preset, overrides), "verif.mac_array.bench", sim=sim)
