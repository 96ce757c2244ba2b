"""Dot-product units (L-Mul lanes and their exact baseline) against the golden summation order."""

import pytest

from verif.runner import emit_design, run_bench, simulators

CASES = [("lmul-dot-bf16-x8", {}), ("fpmul-dot-bf16-x8", {}), ("lmul-dot-e4m3-x8", {"lanes": 3}),
         ("fpmul-dot-e4m3-x8", {}), ("lmul-dot-bf16-x8", {"lanes": 1, "norm": "shift"})]


def _id(case):
    preset, overrides = case
    return preset + "".join(f"-{k}{v}" for k, v in overrides.items())


@pytest.mark.parametrize("sim", simulators())
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_dot_bench(case, sim):
    preset, overrides = case
    run_bench(emit_design(preset, overrides), "verif.fpmul.dot_bench", sim=sim)
