"""The long-GEMM/GEMV utilization bench of the MAC array and the LUT core (run by ``make bench`` through
:mod:`verif.perf`, not by ``make test``)."""

from __future__ import annotations

import json
import os
import time

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from verif import gemm
from verif.bench import Bench
from verif.lut_core import bench as lut_bench
from verif.mac_array import bench as mac_bench

MIN_UTILIZATION = 0.98
BLOCKS = {"mac_array": mac_bench, "lut_core": lut_bench}


@cocotb.test(timeout_time=400, timeout_unit="ms")
async def long_gemm_utilization(dut):
    """1,024 token-tiles: 16 k-tiles x 64 column tiles for one token (GEMV), or x 4 column tiles for a block of
    16 tokens (GEMM). Utilization: the share of cycles, from the first activation beat taken to the last result,
    in which a tile of MACs was done (an activation beat taken, of ``cycles_per_token`` cycles; a weight tile
    taken when a weight-streaming LUT core shares activation beats between tiles)."""
    bench = await Bench.start(dut)
    cfg, block = bench.config, BLOCKS[bench.manifest["block"]]
    rows, cols = cfg.get("rows", cfg.get("k")), cfg.get("cols", cfg.get("n"))
    tokens = cfg["max_tokens"]
    k, n = 16 * rows, (64 // tokens) * cols
    x, w = gemm.random_acts(bench, tokens, k), block.random_weights(bench, k, n)
    plan = block.plan_gemm(bench, x, w)
    tile_stream = "weights" if bench.manifest["block"] == "lut_core" and lut_bench.streaming(cfg) else "acts"
    cpt = round(1 / bench.manifest["throughput"])
    valid, ready = getattr(dut, f"{tile_stream}__valid"), getattr(dut, f"{tile_stream}__ready")
    busy, cycles, started = [0], [0], [False]

    async def count():
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            started[0] = started[0] or bool(dut.acts__valid.value and dut.acts__ready.value)
            cycles[0] += started[0]
            busy[0] += cpt * bool(valid.value and ready.value)

    counter = cocotb.start_soon(count())
    await RisingEdge(dut.clk)  # the counter watches before the first beat can be taken
    scoreboard = gemm.queue(bench, plan, "long GEMM")
    wall = time.perf_counter()
    await gemm.collect(bench, plan, scoreboard)
    wall = time.perf_counter() - wall
    counter.cancel()
    scoreboard.check()
    utilization = busy[0] / cycles[0]
    result = {"preset": bench.manifest["preset"], "tiles": (k // rows) * (n // cols) * tokens, "k": k, "n": n,
              "tokens": tokens, "busy_cycles": busy[0], "cycles": cycles[0], "utilization": utilization,
              "sim_cycles_per_s": cycles[0] / wall}
    with open(os.environ["LOWBIT_BENCH_OUT"], "w") as handle:
        json.dump(result, handle)
    assert utilization >= MIN_UTILIZATION, f"utilization {utilization:.3f} < {MIN_UTILIZATION}"
