"""cocotb bench of the LUT tensor core against ``golden.lut`` (every weight mode, bit-serial and parallel)."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge

from golden import lut, ternary
from verif import coverage, gemm
from verif.bench import Bench

TIMEOUT = {"timeout_time": 20, "timeout_unit": "ms"}
#: What raises ``error``: an invalid ternary code (2-bit planes) or base-3 magnitude; a token block longer than
#: ``max_tokens`` (GEMV: a block of weight tiles longer than ``block_tiles``).
ERRORS = ("invalid_code", "block_over_max_tokens")


def cover_error(kind: str) -> None:
    coverage.point("lut_core.error", ERRORS)(kind)


def mode(cfg: dict) -> dict:
    """The golden model's keyword arguments for this configuration."""
    return {"g": cfg["g"], "weight_kind": cfg["weight_kind"], "weight_bits": cfg["weight_bits"],
            "zero_point": cfg["zero_point"], "ternary_packing": cfg["ternary_packing"],
            "table_bits": cfg["table_bits"], "act_bits": cfg["act_bits"]}


def is_binary(cfg: dict) -> bool:
    return cfg["weight_kind"] == "int" and cfg["weight_bits"] == 1


def weight_bounds(cfg: dict) -> tuple[int, int]:
    return lut.weight_range(cfg["weight_kind"], cfg["weight_bits"], cfg["zero_point"])


def random_weights(bench: Bench, k: int, n: int, density: float | None = None) -> np.ndarray:
    cfg = bench.config
    lo, hi = weight_bounds(cfg)
    w = bench.rng.integers(lo, hi + 1, size=(k, n))
    if is_binary(cfg):
        return np.where(w == 0, 1, w)
    if density is not None:
        w = np.where(bench.rng.random((k, n)) < density, w, 0)
    return w


def group_beats(cfg: dict, rows: np.ndarray) -> list[np.ndarray]:
    """One tile's ``k`` weight rows as the stream's group beats (rows past ``k`` padded with a legal weight)."""
    g = cfg["g"]
    pad = 1 if is_binary(cfg) else 0
    groups = -(-cfg["k"] // g)
    padded = np.full((groups * g, rows.shape[1]), pad, dtype=np.int64)
    padded[: rows.shape[0]] = rows
    beats = []
    for grp in padded.reshape(groups, g, rows.shape[1]):
        if cfg["ternary_packing"] == "base3":
            beats.append(lut.pack_base3(grp.T))
        else:
            beats.append(lut.encode_weights(grp, cfg["weight_kind"], cfg["weight_bits"], cfg["zero_point"]))
    return beats


def streaming(cfg: dict) -> bool:
    return cfg["dataflow"] == "weight_streaming"


def plan_gemm(bench: Bench, x: np.ndarray, w: np.ndarray) -> gemm.Plan:
    """Cut ``X @ W`` into beats (K and N padded to whole tiles) with golden results from ``golden.lut``.
    Weight-stationary: a beat per group of ``g`` weight rows; weight-streaming: a whole tile a beat (its groups),
    flagged ``block_end`` on the last tile that uses the activation beat before it."""
    cfg = bench.config
    k, n = cfg["k"], cfg["n"]
    t_total, k_total = x.shape
    kp, np_ = -(-k_total // k) * k, -(-w.shape[1] // n) * n
    xp = np.zeros((t_total, kp), dtype=np.int64)
    xp[:, :k_total] = x
    wp = np.full((kp, np_), 1 if is_binary(cfg) else 0, dtype=np.int64)
    wp[: w.shape[0], : w.shape[1]] = w
    rows = ternary.stream_plan(xp, wp, k, n, cfg["dataflow"], cfg["max_tokens"], block_tiles=cfg["block_tiles"])
    y = lut.lut_matmul(xp, wp, acc_bits=bench.derived["acc_width"], k_tile=k, **mode(cfg))
    if streaming(cfg):
        weight_beats = [{"data": np.stack(group_beats(cfg, tile)), "block_end": end}
                        for tile, end in zip(rows.weight_beats, rows.weight_ends, strict=True)]
    else:
        weight_beats = []
        for start in range(0, len(rows.weight_beats), k):
            weight_beats += group_beats(cfg, np.array(rows.weight_beats[start : start + k]))
    out_beats = [y[t, j * n : (j + 1) * n] for t, j in rows.out_index]
    return gemm.Plan(weight_beats, rows.act_beats, out_beats, rows.out_index)


def group_beat(cfg: dict, plan: gemm.Plan, grp: int) -> np.ndarray:
    """A copy of the first weight tile's group ``grp`` (its own beat, or a part of a weight-streaming beat)."""
    return (plan.weight_beats[0]["data"][grp] if streaming(cfg) else plan.weight_beats[grp]).copy()


def set_group_beat(cfg: dict, plan: gemm.Plan, grp: int, beat: np.ndarray) -> None:
    if streaming(cfg):
        tile = plan.weight_beats[0]["data"].copy()
        tile[grp] = beat
        plan.weight_beats[0] = {**plan.weight_beats[0], "data": tile}
    else:
        plan.weight_beats[grp] = beat


async def run_plan(bench: Bench, plan: gemm.Plan, context: str, stall_in: float = 0.0, stall_out: float = 0.0,
                   expect_error: bool = False) -> None:
    """Stream a plan with random stalls (:func:`verif.gemm.stream`), then check ``error``."""
    await gemm.stream(bench, plan, context, stall_in, stall_out)
    if not expect_error:
        assert await bench.sample(bench.dut.error) == 0, "error set by valid input"
    await RisingEdge(bench.dut.clk)


async def run_gemm(bench: Bench, x: np.ndarray, w: np.ndarray, stall_in: float = 0.0,
                   stall_out: float = 0.0) -> gemm.Plan:
    gemm.cover_weights(bench, w)
    plan = plan_gemm(bench, x, w)
    await run_plan(bench, plan, f"X{x.shape} @ W{w.shape}", stall_in, stall_out)
    return plan


@cocotb.test(**TIMEOUT)
async def random_gemms_with_stalls(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    for t, k, n, stall_in, stall_out, density in gemm.random_cases(cfg["k"], cfg["n"], cfg["max_tokens"]):
        await run_gemm(bench, gemm.random_acts(bench, t, k), random_weights(bench, k, n, density), stall_in, stall_out)


@cocotb.test(**TIMEOUT)
async def directed_weights_and_extreme_acts(dut):
    """Every weight at its smallest, largest (and zero) value against activations at their extremes."""
    bench = await Bench.start(dut)
    cfg = bench.config
    k, n, mt = cfg["k"], cfg["n"], cfg["max_tokens"]
    t, kk = min(mt, 4) + 1, 3 * k
    amin, amax = -(1 << (cfg["act_bits"] - 1)), (1 << (cfg["act_bits"] - 1)) - 1
    lo, hi = weight_bounds(cfg)
    values = [lo, hi] if is_binary(cfg) else [lo, hi, 0]
    act_cases = [np.full((t, kk), amin), np.full((t, kk), amax), np.resize([amin, amax], (t, kk)),
                 gemm.random_acts(bench, t, kk)]
    weight_cases = [np.full((kk, n), v) for v in values] + [np.resize(values, (kk, n))]
    for w in weight_cases:
        for x in act_cases:
            await run_gemm(bench, x, w, 0.2, 0.2)


@cocotb.test(**TIMEOUT)
async def throughput_and_latency(dut):
    """Weight-stationary: with a token block long enough to cover a tile load, a token is accepted every
    ``cycles_per_token`` cycles without a bubble across tiles. Weight-streaming: a weight tile is taken every
    cycle, across activation beats, blocks and outputs. Either way the first result comes ``latency`` cycles
    after its ``last`` activation beat."""
    bench = await Bench.start(dut)
    cfg, derived = bench.config, bench.derived
    cpt = round(1 / bench.manifest["throughput"])
    groups = -(-cfg["k"] // cfg["g"])
    t = cfg["max_tokens"]
    transfers = bench.watch_transfers("acts", "weights", "out")
    x, w = gemm.random_acts(bench, t, 6 * cfg["k"]), random_weights(bench, 6 * cfg["k"], 2 * cfg["n"])
    plan = await run_gemm(bench, x, w)
    accepted, outs = transfers["acts"], transfers["out"]
    if streaming(cfg):
        taken = transfers["weights"]
        span = taken[-1] - taken[0]
        assert span == len(plan.weight_beats) - 1, \
            f"{len(plan.weight_beats)} weight tiles spanned {span} cycles, expected {len(plan.weight_beats) - 1}"
    elif t * cpt >= groups:
        span = accepted[-1] - accepted[0]
        assert span == (len(plan.act_beats) - 1) * cpt, \
            f"{len(plan.act_beats)} beats spanned {span} cycles, expected {(len(plan.act_beats) - 1) * cpt}"
    first_last = accepted[[i for i, beat in enumerate(plan.act_beats) if beat[2]][0]]
    assert outs[0] - first_last == bench.manifest["latency"], \
        f"latency {outs[0] - first_last}, manifest says {bench.manifest['latency']}"
    assert derived["latency"] == cpt + 3 + cfg["tree_stages"], f"derived latency {derived['latency']}"


@cocotb.test(**TIMEOUT)
async def heavy_output_backpressure(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    t, k, n = cfg["max_tokens"] + 3, 4 * cfg["k"], 2 * cfg["n"]
    await run_gemm(bench, gemm.random_acts(bench, t, k), random_weights(bench, k, n), 0.0, 0.9)


@cocotb.test(**TIMEOUT)
async def reset_in_the_middle_of_a_stream(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    t, k, n = cfg["max_tokens"] * 2, 6 * cfg["k"], 2 * cfg["n"]
    await gemm.interrupt_with_reset(bench, plan_gemm(bench, gemm.random_acts(bench, t, k), random_weights(bench, k, n)))
    await RisingEdge(dut.clk)
    await run_gemm(bench, gemm.random_acts(bench, t, k), random_weights(bench, k, n), 0.3, 0.3)


@cocotb.test(**TIMEOUT)
async def invalid_code_sets_sticky_error(dut):
    """Ternary code 0b10 and a base-3 magnitude above (3^g - 1)/2 compute as zero weights and raise ``error``
    until reset; int weights have no invalid code."""
    bench = await Bench.start(dut)
    cfg = bench.config
    k, n = cfg["k"], cfg["n"]
    x, w = gemm.random_acts(bench, 3, k), random_weights(bench, k, n)
    if cfg["weight_kind"] != "ternary":
        lo, _ = weight_bounds(cfg)
        await run_gemm(bench, x, np.full((k, n), lo))
        assert await bench.sample(dut.error) == 0
        return
    groups, g = -(-k // cfg["g"]), cfg["g"]
    if cfg["ternary_packing"] == "planes" and k % g:
        # A row that only pads the last group is ignored, whatever its code.
        plan = plan_gemm(bench, x, w)
        beat = group_beat(cfg, plan, groups - 1)
        beat[g - 1, int(bench.rng.integers(n))] = ternary.INVALID_TERNARY_CODE
        set_group_beat(cfg, plan, groups - 1, beat)
        await run_plan(bench, plan, "invalid code in a padding row", 0.2, 0.2)
    row, col = int(bench.rng.integers(k)), int(bench.rng.integers(n))
    grp = row // cfg["g"]
    if cfg["ternary_packing"] == "base3":
        w[grp * cfg["g"] : (grp + 1) * cfg["g"], col] = 0  # the whole group computes as zero weights
    else:
        w[row, col] = 0
    plan = plan_gemm(bench, x, w)
    beat = group_beat(cfg, plan, grp)
    if cfg["ternary_packing"] == "base3":
        beat[col] = lut.base3_magnitude_max(cfg["g"]) + 1
    else:
        beat[row % cfg["g"], col] = ternary.INVALID_TERNARY_CODE
    set_group_beat(cfg, plan, grp, beat)
    await run_plan(bench, plan, "invalid code", 0.2, 0.2, expect_error=True)
    assert await bench.sample(dut.error) == 1, "an invalid code did not set error"
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
    kk = cfg["max_k"]
    lo, hi = weight_bounds(cfg)
    amin = -(1 << (cfg["act_bits"] - 1))
    for value in (lo, hi):
        x, w = np.full((2, kk), amin), np.full((kk, cfg["n"]), value)
        plan = await run_gemm(bench, x, w)
        if cfg["acc_bits"] is None and cfg["table_bits"] is None:
            assert int(np.max(np.abs(plan.out_beats))) == abs(amin * value) * kk


@cocotb.test(**TIMEOUT)
async def busy_and_block_overflow(dut):
    """``busy`` is high while work is in flight; a token block longer than ``max_tokens`` (GEMV: more weight
    tiles against one activation beat than ``block_tiles``) sets ``error``."""
    bench = await Bench.start(dut)
    cfg = bench.config
    k, n, mt = cfg["k"], cfg["n"], cfg["max_tokens"]
    x, w = gemm.random_acts(bench, mt, 4 * k), random_weights(bench, 4 * k, n)
    bench["out"].stall(bench.rng, 0.9)
    plan = plan_gemm(bench, x, w)
    scoreboard = gemm.queue(bench, plan, "busy")
    await ClockCycles(dut.clk, 6)
    assert await bench.sample(dut.busy) == 1, "busy low while a GEMM is in flight"
    await gemm.collect(bench, plan, scoreboard)
    scoreboard.check()
    await bench.assert_quiet()
    assert await bench.sample(dut.busy) == 0
    bench["out"].stall(bench.rng, 0.0)
    zero_tile = group_beats(cfg, np.full((k, n), 1 if is_binary(cfg) else 0))
    if streaming(cfg):
        # one activation beat, then one weight tile more than a block holds before block_end
        limit = cfg["block_tiles"]
        bench["acts"].send_nowait({"data": np.zeros(k, dtype=np.int64), "first": 1, "last": 0, "tile_end": 0})
        for _ in range(limit + 1):
            bench["weights"].send_nowait({"data": np.stack(zero_tile), "block_end": 0})
    else:
        limit = mt
        for beat in zero_tile:
            bench["weights"].send_nowait({"": beat})
        for _ in range(mt + 1):  # one beat too many before tile_end
            bench["acts"].send_nowait({"data": np.zeros(k, dtype=np.int64), "first": 1, "last": 0, "tile_end": 0})
    await ClockCycles(dut.clk, k + (limit + 2) * cfg["weight_bits"] + 10)
    assert await bench.sample(dut.error) == 1, "a block longer than its accumulators did not set error"
    cover_error("block_over_max_tokens")
    if not streaming(cfg):
        gemm.cover_token_block(bench, mt + 1)
