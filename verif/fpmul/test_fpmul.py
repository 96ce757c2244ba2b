"""L-Mul and the exact multiplier: exhaustive 8-bit benches, random and directed wider formats, every depth."""

import pytest

from verif.runner import bench_cases, emit_design, run_bench, simulators

EIGHT_BIT = [(f"{kind}-{name}", extra) for name in ("e4m3", "e5m2")
             for kind, extra in (("lmul", {"norm": "carry"}), ("lmul", {"norm": "shift"}), ("fpmul", {}))]
WIDE = [(f"{kind}-{name}", extra) for name in ("bf16", "fp16", "fp32", "e8m3")
        for kind, extra in (("lmul", {"norm": "carry"}), ("lmul", {"norm": "shift"}), ("fpmul", {}))]
DEPTHS = [(f"{kind}-bf16", {**extra, "stages": stages}) for stages in (0, 2, 3)
          for kind, extra in (("lmul", {"norm": "carry"}), ("lmul", {"norm": "shift"}), ("fpmul", {}))]
DEPTHS += [(f"{kind}-fp32", {**extra, "stages": stages}) for stages in (0, 3)
           for kind, extra in (("lmul", {"norm": "carry"}), ("fpmul", {}))]
SATURATE = [("lmul-e5m2", {"overflow": "saturate"}), ("fpmul-fp16", {"overflow": "saturate", "stages": 0})]
CASES = EIGHT_BIT + WIDE + DEPTHS + SATURATE


@pytest.mark.parametrize("sim", simulators())
@pytest.mark.parametrize("preset, overrides", bench_cases(CASES))
def test_fpmul_bench(preset, overrides, sim):
    run_bench(emit_design(preset, overrides), "verif.fpmul.bench", sim=sim)
