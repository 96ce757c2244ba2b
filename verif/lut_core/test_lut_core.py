"""LUT tensor core cocotb benches over weight modes, g, bit-serial and parallel, quantized tables, on each
simulator."""

import pytest

from verif.runner import bench_cases, emit_design, run_bench, simulators

SMALL = {"k": 8, "n": 4, "max_tokens": 4, "max_k": 64}
GEMV = {"k": 8, "n": 4, "max_k": 64}
DESIGNS = [
    ("lut-ternary-16x16", SMALL),
    ("lut-ternary-16x16", {**SMALL, "bit_serial": True, "n": 3}),
    ("lut-ternary-16x16", {**SMALL, "ternary_packing": "base3", "g": 3, "k": 7}),
    ("lut-ternary-16x16", {**SMALL, "ternary_packing": "base3", "g": 2, "n": 2, "table_bits": 7}),
    ("lut-ternary-16x16", {**SMALL, "g": 5, "k": 10, "max_tokens": 1, "acc_bits": 9}),
    ("lut-ternary-16x16", {**SMALL, "table_bits": 8, "max_tokens": 2}),
    ("lut-int4-serial-16x16", {**SMALL, "table_bits": 8, "k": 6, "g": 3}),
    ("lut-int4-serial-16x16", {**SMALL, "weight_bits": 3, "zero_point": 2, "g": 2, "k": 5, "n": 2}),
    ("lut-int4-serial-16x16", {**SMALL, "weight_bits": 1, "bit_serial": False, "g": 3, "k": 7, "n": 3}),
    ("lut-int4-serial-16x16", {**SMALL, "weight_bits": 2, "bit_serial": False, "g": 6, "k": 12, "act_bits": 5}),
    ("lut-int4-serial-16x16", {**SMALL, "weight_bits": 2, "zero_point": 0, "k": 4, "n": 6, "max_tokens": 1}),
    ("lut-ternary-16x16", {**SMALL, "k": 7, "g": 3, "table_bits": 8}),
    ("lut-ternary-16x16", {**SMALL, "k": 3, "n": 1, "bit_serial": True, "table_bits": 8, "acc_bits": 12}),
    ("lut-ternary-16x16", {**SMALL, "ternary_packing": "base3", "g": 4, "k": 9, "table_bits": 9}),
    ("lut-int4-serial-16x16", {**SMALL, "weight_bits": 2, "act_bits": 16, "k": 5, "g": 2, "n": 2}),
    ("lut-ternary-16x16", {"max_k": 256}),
    ("lut-int2-serial-4x64", {"max_k": 64, "max_tokens": 2}),
    ("lut-ternary-16x16", {**SMALL, "k": 12, "g": 2, "tree_stages": 3}),
    ("lut-int4-serial-16x16", {**SMALL, "weight_bits": 3, "k": 9, "g": 3, "tree_stages": 1}),
    ("lut-ternary-gemv-16x16", {**GEMV, "k": 7, "g": 3, "n": 3}),
    ("lut-ternary-gemv-b4-16x16", {**GEMV, "block_tiles": 3, "tree_stages": 1}),
    ("lut-binary-gemv-16x16", {**GEMV, "k": 6, "g": 2, "block_tiles": 2}),
    ("lut-ternary-base3-g2-gemv-16x16", {**GEMV, "k": 5, "block_tiles": 2}),
    ("lut-uint4-gemv-16x16", {**GEMV, "k": 6, "g": 3}),  # four planes, zero point 0: the model's Q4_1 codes
    # a pipeline that never stalls: output queue and credits
    ("lut-ternary-16x16", {**SMALL, "k": 12, "g": 2, "tree_stages": 3, "backpressure": "credit"}),
    ("lut-int4-serial-16x16", {**SMALL, "weight_bits": 3, "k": 9, "g": 3, "backpressure": "credit"}),
    ("lut-ternary-gemv-b4-16x16", {**GEMV, "block_tiles": 3, "tree_stages": 1, "backpressure": "credit"}),
]


@pytest.mark.parametrize("sim", simulators())
@pytest.mark.parametrize("preset, overrides", bench_cases(DESIGNS))
def test_lut_core_bench(preset, overrides, sim):
    run_bench(emit_design(preset, overrides), "verif.lut_core.bench", sim=sim)
