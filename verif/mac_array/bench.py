"""cocotb bench of the MAC array (ternary and int8, both dataflows) against ``golden.ternary``."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge

from golden import ternary
from verif import coverage, gemm
from verif.bench import Bench

TIMEOUT = {"timeout_time": 20, "timeout_unit": "ms"}
#: What raises ``error``: an invalid ternary code; a token block longer than ``max_tokens`` (weight-stationary).
ERRORS = ("invalid_code", "block_over_max_tokens")


def cover_error(kind: str) -> None:
    coverage.point("mac_array.error", ERRORS)(kind)


def random_weights(bench: Bench, k: int, n: int, density: float | None = None) -> np.ndarray:
    if bench.config["weight_kind"] == "ternary":
        w = bench.rng.integers(-1, 2, size=(k, n))
    else:
        w = bench.rng.integers(-128, 128, size=(k, n))
    if density is not None:
        w = np.where(bench.rng.random((k, n)) < density, w, 0)
    return w


def plan_gemm(bench: Bench, x: np.ndarray, w: np.ndarray, codes: np.ndarray | None = None,
              tile_end: np.ndarray | None = None) -> gemm.Plan:
    """``X @ W`` as the array's beats (``golden.ternary.stream_plan``) with its results and MAC count.

    ``codes`` (same shape as ``w``) overrides the weight encoding, to inject invalid ternary codes; ``tile_end``
    overrides the activation beats' ``tile_end`` flags (cycled).
    """
    cfg = bench.config
    plan = ternary.stream_plan(x, w, cfg["rows"], cfg["cols"], cfg["dataflow"], cfg["max_tokens"],
                               acc_bits=bench.derived["acc_width"])
    weight_beats = plan.weight_beats
    if codes is not None:
        weight_beats = ternary.stream_plan(np.zeros_like(x), codes, cfg["rows"], cfg["cols"], cfg["dataflow"],
                                           cfg["max_tokens"]).weight_beats
    act_beats = plan.act_beats
    if tile_end is not None:
        act_beats = [(d, f, la, tile_end[i % len(tile_end)]) for i, (d, f, la, _) in enumerate(act_beats)]
    # The codec masks -1 to the 2-bit code 0b11.
    return gemm.Plan(weight_beats, act_beats, plan.out_beats, plan.out_index,
                     {"nonzero_macs": plan.nonzero_macs})


async def run_gemm(bench: Bench, x: np.ndarray, w: np.ndarray, stall_in: float = 0.0, stall_out: float = 0.0,
                   codes: np.ndarray | None = None, tile_end: np.ndarray | None = None) -> gemm.Plan:
    """Stream one GEMM through the array with random stalls and check outputs, counter and error flag, and that
    nothing more comes out afterwards."""
    macs_before = await bench.sample(bench.dut.nonzero_macs)
    gemm.cover_weights(bench, w)
    plan = plan_gemm(bench, x, w, codes, tile_end)
    await gemm.stream(bench, plan, f"X{x.shape} @ W{w.shape}", stall_in, stall_out)
    macs = await bench.sample(bench.dut.nonzero_macs) - macs_before
    assert macs == plan.extra["nonzero_macs"], f"nonzero_macs counted {macs}, golden {plan.extra['nonzero_macs']}"
    if codes is None:
        assert await bench.sample(bench.dut.error) == 0, "error set by valid input"
    await RisingEdge(bench.dut.clk)
    return plan


@cocotb.test(**TIMEOUT)
async def random_gemms_with_stalls(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    for t, k, n, stall_in, stall_out, density in gemm.random_cases(cfg["rows"], cfg["cols"], cfg["max_tokens"]):
        await run_gemm(bench, gemm.random_acts(bench, t, k), random_weights(bench, k, n, density), stall_in, stall_out)


@cocotb.test(**TIMEOUT)
async def directed_weights_and_extreme_acts(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    r, c, mt = cfg["rows"], cfg["cols"], cfg["max_tokens"]
    t, k, n = min(mt, 4) + 1, 3 * r, c
    amin, amax = -(1 << (cfg["act_bits"] - 1)), (1 << (cfg["act_bits"] - 1)) - 1
    wmin, wmax = (-1, 1) if cfg["weight_kind"] == "ternary" else (-128, 127)
    act_cases = [np.full((t, k), amin), np.full((t, k), amax), np.resize([amin, amax], (t, k)),
                 gemm.random_acts(bench, t, k)]
    for w in (np.zeros((k, n), int), np.full((k, n), wmax), np.full((k, n), wmin),
              np.resize([wmin, wmax, 0], (k, n))):
        for x in act_cases:
            await run_gemm(bench, x, w, 0.2, 0.2)


@cocotb.test(**TIMEOUT)
async def back_to_back_tiles_have_no_bubble(dut):
    """Weights for the next tile load while the current one computes: with token blocks >= R, the activation
    stream is accepted every cycle; the first result appears ``latency`` cycles after its ``last`` beat."""
    bench = await Bench.start(dut)
    cfg = bench.config
    r, c, mt = cfg["rows"], cfg["cols"], cfg["max_tokens"]
    t = mt if cfg["dataflow"] == "weight_stationary" else 4
    transfers = bench.watch_transfers("acts", "out")
    x, w = gemm.random_acts(bench, t, 6 * r), random_weights(bench, 6 * r, 2 * c)
    plan = await run_gemm(bench, x, w)
    accepted, first_out = transfers["acts"], transfers["out"]
    span = accepted[-1] - accepted[0] + 1
    if cfg["dataflow"] == "weight_streaming" or mt >= r:
        assert span == len(plan.act_beats), f"{len(plan.act_beats)} beats took {span} cycles"
    first_last = accepted[[i for i, beat in enumerate(plan.act_beats) if beat[2]][0]]
    assert first_out[0] - first_last == bench.manifest["latency"], \
        f"latency {first_out[0] - first_last}, manifest says {bench.manifest['latency']}"


@cocotb.test(**TIMEOUT)
async def heavy_output_backpressure(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    t, k, n = cfg["max_tokens"] + 3, 4 * cfg["rows"], 2 * cfg["cols"]
    await run_gemm(bench, gemm.random_acts(bench, t, k), random_weights(bench, k, n), 0.0, 0.9)


@cocotb.test(**TIMEOUT)
async def reset_in_the_middle_of_a_stream(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    t, k, n = cfg["max_tokens"] * 2, 6 * cfg["rows"], 2 * cfg["cols"]
    await gemm.interrupt_with_reset(bench, plan_gemm(bench, gemm.random_acts(bench, t, k), random_weights(bench, k, n)))
    assert await bench.sample(dut.nonzero_macs) == 0
    await RisingEdge(dut.clk)
    await run_gemm(bench, gemm.random_acts(bench, t, k), random_weights(bench, k, n), 0.3, 0.3)


@cocotb.test(**TIMEOUT)
async def invalid_code_sets_sticky_error(dut):
    """Code 0b10 computes as 0 and raises ``error`` until reset (ternary); int8 weights never raise it."""
    bench = await Bench.start(dut)
    cfg = bench.config
    t, k, n = 3, 2 * cfg["rows"], cfg["cols"]
    x, w = gemm.random_acts(bench, t, k), random_weights(bench, k, n)
    if cfg["weight_kind"] != "ternary":
        await run_gemm(bench, x, np.full((k, n), -128))
        assert await bench.sample(dut.error) == 0
        return
    codes = ternary.encode_ternary(w).astype(np.int64)
    bad = (int(bench.rng.integers(k)), int(bench.rng.integers(n)))
    codes[bad] = ternary.INVALID_TERNARY_CODE
    w[bad] = 0
    await run_gemm(bench, x, w, 0.2, 0.2, codes=codes)
    assert await bench.sample(dut.error) == 1, "code 0b10 did not set error"
    cover_error("invalid_code")
    await ClockCycles(dut.clk, 5)
    assert await bench.sample(dut.error) == 1, "error is not sticky"
    await bench.reset()
    assert await bench.sample(dut.error) == 0, "reset did not clear error"
    await run_gemm(bench, x, random_weights(bench, k, n))


@cocotb.test(**TIMEOUT)
async def reduction_of_max_k_extremes(dut):
    """K = max_k with every product at its extreme: the default accumulator width is exactly enough."""
    bench = await Bench.start(dut)
    cfg = bench.config
    kind, k = cfg["weight_kind"], cfg["max_k"]
    if cfg["acc_bits"] is None:
        assert bench.derived["acc_width"] == ternary.acc_bits_for(k, cfg["act_bits"], kind), \
            "the configured accumulator width differs from the golden model's"
    amin = -(1 << (cfg["act_bits"] - 1))
    wmin = -1 if kind == "ternary" else -128
    t = 2
    for x, w in ((np.full((t, k), amin), np.full((k, cfg["cols"]), wmin)),
                 (np.full((t, k), amin), np.full((k, cfg["cols"]), -wmin if kind == "ternary" else 127))):
        plan = await run_gemm(bench, x, w)
        if cfg["acc_bits"] is None:
            assert int(np.max(np.abs(plan.out_beats))) == abs(int(x[0, 0]) * int(w[0, 0])) * k


@cocotb.test(**TIMEOUT)
async def busy_and_tile_end_rules(dut):
    """``busy`` is high while work is in flight. Weight-stationary: a token block longer than ``max_tokens``
    sets ``error``. Weight-streaming: ``tile_end`` is ignored."""
    bench = await Bench.start(dut)
    cfg = bench.config
    r, c, mt = cfg["rows"], cfg["cols"], cfg["max_tokens"]
    x, w = gemm.random_acts(bench, mt, 4 * r), random_weights(bench, 4 * r, c)
    bench["out"].stall(bench.rng, 0.9)
    plan = plan_gemm(bench, x, w)
    scoreboard = gemm.queue(bench, plan, "busy")
    await ClockCycles(dut.clk, 6)
    assert await bench.sample(dut.busy) == 1, "busy low while a GEMM is in flight"
    await gemm.collect(bench, plan, scoreboard)
    scoreboard.check()
    await bench.assert_quiet()
    assert await bench.sample(dut.busy) == 0
    if cfg["dataflow"] == "weight_streaming":
        await run_gemm(bench, x, w, 0.2, 0.2, tile_end=bench.rng.integers(0, 2, 64))
        return
    bench["out"].stall(bench.rng, 0.0)
    bench["weights"].send_nowait({"": np.zeros(c, dtype=np.int64)})
    for _ in range(r - 1):
        bench["weights"].send_nowait({"": np.zeros(c, dtype=np.int64)})
    for _ in range(mt + 1):  # one beat too many before tile_end
        bench["acts"].send_nowait({"data": np.zeros(r, dtype=np.int64), "first": 1, "last": 0, "tile_end": 0})
    await ClockCycles(dut.clk, r + mt + 10)
    assert await bench.sample(dut.error) == 1, "a token block longer than max_tokens did not set error"
    cover_error("block_over_max_tokens")
    gemm.cover_token_block(bench, mt + 1)
