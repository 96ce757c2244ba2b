"""The long-GEMM utilization bench (run by ``make bench`` through :mod:`verif.perf`, not by ``make test``)."""

from __future__ import annotations

import json
import os
import time

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from verif.bench import Bench
from verif.mac_array.bench import collect, queue_gemm, random_acts, random_weights

MIN_UTILIZATION = 0.95


@cocotb.test(timeout_time=200, timeout_unit="ms")
async def long_gemm_utilization(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    rows, cols, tokens = cfg["rows"], cfg["cols"], cfg["max_tokens"]
    k, n = 16 * rows, 4 * cols  # 16 k-tiles x 4 column tiles = 64 weight tiles, K >> R
    x, w = random_acts(bench, tokens, k), random_weights(bench, k, n)
    plan, scoreboard = queue_gemm(bench, x, w)
    busy = [0]
    cycles = [0]
    started = [False]

    async def count():
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            fire = bool(dut.acts__valid.value) and bool(dut.acts__ready.value)
            started[0] = started[0] or fire
            cycles[0] += started[0]
            busy[0] += fire

    counter = cocotb.start_soon(count())
    wall = time.perf_counter()
    await collect(bench, plan, scoreboard)
    wall = time.perf_counter() - wall
    counter.cancel()
    scoreboard.check()
    utilization = busy[0] / cycles[0]
    result = {"preset": bench.manifest["preset"], "tiles": (k // rows) * (n // cols), "k": k, "n": n,
              "tokens": tokens, "busy_cycles": busy[0], "cycles": cycles[0], "utilization": utilization,
              "sim_cycles_per_s": cycles[0] / wall}
    with open(os.environ["LOWBIT_BENCH_OUT"], "w") as handle:
        json.dump(result, handle)
    assert utilization >= MIN_UTILIZATION, f"utilization {utilization:.3f} < {MIN_UTILIZATION}"
