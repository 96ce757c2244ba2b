"""What the GEMM benches share (MAC array, LUT core): a GEMM cut into stream beats, queued on the drivers,
its results collected into a scoreboard, and the standard shapes and stall mixes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge

from rtl.lut_core.config import DATAFLOWS as LUT_DATAFLOWS
from rtl.mac_array.config import DATAFLOWS as MAC_DATAFLOWS

from . import coverage
from .bench import Bench
from .scoreboard import Scoreboard

#: (input stall, output stall) probabilities and weight densities the random-GEMM tests cycle through.
STALL_MIXES = [(0.0, 0.0), (0.3, 0.3), (0.7, 0.2), (0.1, 0.8), (0.5, 0.5)]
DENSITIES = [None, 0.5, 0.1]


@dataclass
class Plan:
    """The beats of one GEMM on a block's streams, in order, and the output beats it must produce.

    ``weight_beats``: arrays (a payload without other fields) or field dicts (``{"data": ..., "block_end":
    ...}``); ``act_beats``: ``(data, first, last, tile_end)``; ``out_index``: the ``(token, column tile)`` of
    each output beat; ``extra``: block-specific expectations (a MAC count, ...).
    """

    weight_beats: list[np.ndarray | dict]
    act_beats: list[tuple[np.ndarray, bool, bool, bool]]
    out_beats: list[np.ndarray]
    out_index: list[tuple[int, int]]
    extra: dict = field(default_factory=dict)


def shapes(rows: int, cols: int, max_tokens: int) -> list[tuple[int, int, int]]:
    """(T, K, N): one tile, a token block, K and N beyond and not multiples of the tile, a long K, T past a
    block."""
    r, c, mt = rows, cols, max_tokens
    return [(1, r, c), (mt, r, c), (2 * mt + 1, 5 * r + 1, 2 * c + 1), (3, 9 * r, c), (mt + 2, 2 * r - 1, c + 1)]


def random_cases(rows: int, cols: int, max_tokens: int) -> list[tuple[int, int, int, float, float, float | None]]:
    """(T, K, N, input stall, output stall, weight density) for each of :func:`shapes`, the stall mixes and
    densities cycled."""
    return [(t, k, n, *STALL_MIXES[i % len(STALL_MIXES)], DENSITIES[i % len(DENSITIES)])
            for i, (t, k, n) in enumerate(shapes(rows, cols, max_tokens))]


DENSITY_BINS = ("all_zero", "under_half", "half_or_more", "no_zero")
BLOCK_BINS = ("one", "between", "max_tokens", "over_max_tokens")
DATAFLOWS = {"mac_array": MAC_DATAFLOWS, "lut_core": LUT_DATAFLOWS}


def cover_weights(bench: Bench, w: np.ndarray) -> None:
    """``<block>.weight_density``: the share of non-zero weights of a GEMM."""
    share = np.count_nonzero(w) / w.size
    value = "all_zero" if share == 0 else "no_zero" if share == 1 else "under_half" if share < 0.5 else "half_or_more"
    coverage.point(f"{bench.manifest['block']}.weight_density", DENSITY_BINS)(value)


def cover_token_block(bench: Bench, length: int) -> None:
    """``<block>.token_block``: tokens a weight tile serves (weight-stationary), against ``max_tokens``."""
    mt = bench.config["max_tokens"]
    value = ("over_max_tokens" if length > mt else "max_tokens" if length == mt else "one" if length == 1
             else "between")
    coverage.point(f"{bench.manifest['block']}.token_block", BLOCK_BINS)(value)


def cover_plan(bench: Bench, plan: Plan, accepted: list[int]) -> None:
    """Tile switches (``<block>.tile_switch``: dataflow x whether the next tile's first activation beat came
    the cycle after the last beat of the previous one), token block lengths, from the cycles ``accepted`` of
    the plan's activation beats."""
    block, flow = bench.manifest["block"], bench.config["dataflow"]
    switch = coverage.cross(f"{block}.tile_switch", {"dataflow": DATAFLOWS[block], "bubble": ("none", "bubble")})
    # weight-stationary tiles end at tile_end; weight-streaming ones at each K-accumulation's last beat
    stationary = flow == "weight_stationary"
    ends = [i for i, (_, _, last, end) in enumerate(plan.act_beats) if (end if stationary else last)]
    for i in ends:
        if i + 1 < len(accepted):
            switch(flow, "bubble" if accepted[i + 1] - accepted[i] > 1 else "none")
    if stationary:
        for start, end in zip([-1, *ends[:-1]], ends, strict=True):
            cover_token_block(bench, end - start)


def random_acts(bench: Bench, t: int, k: int) -> np.ndarray:
    bits = bench.config["act_bits"]
    return bench.rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=(t, k))


def queue(bench: Bench, plan: Plan, context: str, scoreboard: Scoreboard | None = None) -> Scoreboard:
    """Queue every input beat of ``plan`` on the drivers and its results on a scoreboard."""
    scoreboard = scoreboard or Scoreboard(f"{bench.manifest['preset']} out", bench.dut._log)
    for beat in plan.weight_beats:
        bench["weights"].send_nowait(beat if isinstance(beat, dict) else {"": beat})
    for data, first, last, end in plan.act_beats:
        bench["acts"].send_nowait({"data": data, "first": first, "last": last, "tile_end": end})
    for (token, col_tile), beat in zip(plan.out_index, plan.out_beats, strict=True):
        scoreboard.expect(beat, f"{context}: token {token}, column tile {col_tile}")
    return scoreboard


async def collect(bench: Bench, plan: Plan, scoreboard: Scoreboard) -> None:
    out = bench["out"]
    for _ in plan.out_beats:
        scoreboard.compare(out.codec.array(await out.recv(), "data"))


async def stream(bench: Bench, plan: Plan, context: str, stall_in: float = 0.0, stall_out: float = 0.0,
                 queue: Callable = queue, cover: Callable = cover_plan) -> None:
    """Run ``plan`` with random stalls on every stream; check every result, that nothing more comes out and
    that ``busy`` falls. ``queue`` puts the plan's beats on the drivers and ``cover`` samples the plan's
    coverage from the cycles of its activation beats (a block with other streams passes its own; the plan
    needs ``out_beats``)."""
    for name in ("weights", "acts"):
        bench[name].stall(bench.rng, stall_in)
    bench["out"].stall(bench.rng, stall_out)
    await RisingEdge(bench.dut.clk)
    accepted = bench.watch_transfers("acts")["acts"]
    scoreboard = queue(bench, plan, context)
    await collect(bench, plan, scoreboard)
    scoreboard.check()
    await bench.assert_quiet()
    assert await bench.sample(bench.dut.busy) == 0, "busy after the last result"
    assert len(accepted) == len(plan.act_beats), f"{len(accepted)} activation beats taken, {len(plan.act_beats)} sent"
    cover(bench, plan, accepted)


async def interrupt_with_reset(bench: Bench, plan: Plan, queue: Callable = queue) -> None:
    """Start ``plan`` with stalls everywhere and reset the block a random number of cycles in; start it again
    with the output stream not read, and reset the block once an output beat waits. Each time check that it is
    idle afterwards (the work in flight is dropped; the caller then checks that new work runs)."""
    for output_held in (False, True):
        for name in ("weights", "acts", "out"):
            bench[name].stall(bench.rng, 0.3)
        scoreboard = queue(bench, plan, "interrupted")
        receiver = cocotb.start_soon(collect(bench, plan, scoreboard))
        if output_held:
            await bench.hold_output("out")
        else:
            await ClockCycles(bench.dut.clk, int(bench.rng.integers(5, 40)))
        receiver.cancel()
        await bench.reset()
        assert await bench.sample(bench.dut.busy) == 0, "busy after reset"
