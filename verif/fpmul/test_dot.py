"""Dot-product units (L-Mul lanes and their exact baseline) against the golden summation order."""

import pytest

from verif.runner import bench_cases, emit_design, run_bench, simulators

CASES = [("lmul-dot-bf16-x8", {}), ("fpmul-dot-bf16-x8", {}), ("lmul-dot-e4m3-x8", {"lanes": 3}),
         ("fpmul-dot-e4m3-x8", {}), ("lmul-dot-bf16-x8", {"lanes": 1, "norm": "shift"}),
         ("lmul-dot-bf16-x8", {"tree_stages": 2}), ("fpmul-dot-e4m3-x8", {"lanes": 5, "tree_stages": 3}),
         # pipelined adders: partial accumulators (2, 5, 4), fewer beats than accumulators, every cut point;
         # pipelined lanes
         ("lmul-dot-e4m3-x8", {"lanes": 2, "adder_stages": 1}),
         ("fpmul-dot-e4m3-x8", {"lanes": 5, "adder_stages": 4, "tree_stages": 1, "lane_stages": 1}),
         ("fpmul-dot-bf16-x8", {"adder_stages": 3, "tree_stages": 3, "lane_stages": 3}),
         ("lmul-dot-bf16-x8-pipelined", {})]


@pytest.mark.parametrize("sim", simulators())
@pytest.mark.parametrize("preset, overrides", bench_cases(CASES))
def test_dot_bench(preset, overrides, sim):
    run_bench(emit_design(preset, overrides), "verif.fpmul.dot_bench", sim=sim)
