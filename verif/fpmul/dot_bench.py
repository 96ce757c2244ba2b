"""cocotb bench of the dot-product unit against ``golden.dot``."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from golden.dot import dot
from golden.fp import FloatFormat, round_to_format
from verif import coverage
from verif.bench import Bench
from verif.fpmul.bench import CLASSES, classes, directed_values
from verif.scoreboard import Scoreboard

TIMEOUT = {"timeout_time": 100, "timeout_unit": "ms"}
RESULTS = ("zero", "normal", "inf", "nan")  # sums are flushed to zero below the smallest normal


def cover_dots(bench: Bench, a: np.ndarray, b: np.ndarray, sums: np.ndarray) -> None:
    """``fp_dot.operand_classes`` (class of a x class of b, every lane), ``fp_dot.beats`` (beats a dot product
    takes), ``fp_dot.result`` (class of the sum)."""
    f, acc = formats(bench)
    operands = coverage.cross("fp_dot.operand_classes", {"a": CLASSES, "b": CLASSES})
    for ca, cb in zip(classes(a, f).ravel().tolist(), classes(b, f).ravel().tolist(), strict=True):
        operands(ca, cb)
    beats = a.shape[1] // bench.config["lanes"]
    length = coverage.point("fp_dot.beats", coverage.CYCLE_BINS[1:])
    result = coverage.point("fp_dot.result", RESULTS)
    for value in classes(sums, acc).tolist():
        length(coverage.cycles_bin(beats))
        result(value)


def formats(bench: Bench) -> tuple[FloatFormat, FloatFormat]:
    cfg = bench.config
    return (FloatFormat(cfg["exp_bits"], cfg["man_bits"], has_inf=not cfg["finite_only"]),
            FloatFormat(cfg["acc_exp_bits"], cfg["acc_man_bits"]))


def operands(bench: Bench, rows: int, k: int, kind: str) -> np.ndarray:
    """``rows x k`` bit patterns: values of N(0, 1) rounded to the format, uniform bits, or a mix."""
    f, _ = formats(bench)
    rng = bench.rng
    normal = rng.standard_normal((rows, k)) * np.exp2(rng.integers(-3, 4, (rows, 1)))
    normal = np.clip(normal, -f.max_finite, f.max_finite)
    normal = np.where(np.abs(normal) < f.min_normal, f.min_normal, normal)
    values = round_to_format(normal, f)
    values = np.where(values < 0, f.max_finite_bits, values)
    uniform = rng.integers(0, 1 << f.width, (rows, k))
    if kind == "normal":
        return values
    if kind == "uniform":
        return uniform
    if kind == "special":  # zeros, subnormals, extremes, infinities, NaN among normal values; some rows all zero
        pool = directed_values(f)
        by_class = [pool[classes(pool, f) == c] for c in CLASSES if (classes(pool, f) == c).any()]
        picks = [group[rng.integers(len(group), size=(rows, k))] for group in by_class]
        special = np.choose(rng.integers(len(picks), size=(rows, k)), picks)  # each class as likely
        special = np.where(rng.random((rows, k)) < 0.5, special, values)
        return np.where(rng.random((rows, 1)) < 0.1, 0, special)
    return np.where(rng.random((rows, k)) < 0.1, uniform, values)


async def run_dots(bench: Bench, a: np.ndarray, b: np.ndarray, stall_in: float, stall_out: float) -> None:
    cfg = bench.config
    f, acc = formats(bench)
    lanes = cfg["lanes"]
    bench["operands"].stall(bench.rng, stall_in)
    bench["result"].stall(bench.rng, stall_out)
    expected = dot(a, b, f, lanes, acc, cfg["multiplier"], cfg["norm"], cfg["overflow"],
                   bench.manifest["derived"]["partials"])
    cover_dots(bench, a, b, expected)
    scoreboard = Scoreboard(f"{bench.manifest['preset']} sum", bench.dut._log)
    beats = a.shape[1] // lanes
    for row in range(a.shape[0]):
        for beat in range(beats):
            part = slice(beat * lanes, (beat + 1) * lanes)
            bench["operands"].send_nowait({"a": a[row, part], "b": b[row, part], "first": beat == 0,
                                           "last": beat == beats - 1})
        scoreboard.expect(expected[row], f"row {row}: a={a[row].tolist()} b={b[row].tolist()}")
    for _ in range(a.shape[0]):
        scoreboard.compare(bench["result"].codec.unpack(await bench["result"].recv())["sum"])
    scoreboard.check()
    await bench.assert_quiet()


@cocotb.test(**TIMEOUT)
async def random_dot_products(dut):
    bench = await Bench.start(dut)
    lanes = bench.config["lanes"]
    for beats, kind, stalls in ((1, "normal", (0.0, 0.0)), (4, "normal", (0.3, 0.3)), (16, "mixed", (0.5, 0.2)),
                                (3, "uniform", (0.2, 0.6)), (128 // lanes, "normal", (0.1, 0.1)),
                                (1, "special", (0.3, 0.3)), (2, "special", (0.0, 0.0))):
        rows = 40
        await run_dots(bench, operands(bench, rows, beats * lanes, kind), operands(bench, rows, beats * lanes, kind),
                       *stalls)


@cocotb.test(**TIMEOUT)
async def full_throughput_and_latency(dut):
    """Without stalls one beat is accepted every cycle, and a dot product's sum comes out ``latency`` cycles
    after its ``last`` beat was accepted (the manifest's latency, which follows ``tree_stages``)."""
    bench = await Bench.start(dut)
    lanes = bench.config["lanes"]
    transfers = bench.watch_transfers("operands", "result")
    a, b = operands(bench, 12, 2 * lanes, "normal"), operands(bench, 12, 2 * lanes, "normal")
    await run_dots(bench, a, b, 0.0, 0.0)
    accepted, produced = transfers["operands"], transfers["result"]
    assert accepted[-1] - accepted[0] + 1 == len(accepted) == 24, "operand beats were not accepted every cycle"
    latency = produced[0] - accepted[1]  # the first dot product's last beat is the second
    assert latency == bench.manifest["latency"], f"latency {latency}, manifest says {bench.manifest['latency']}"


@cocotb.test(**TIMEOUT)
async def reset_in_the_middle_of_a_stream(dut):
    """Reset while idle, with operands streaming in, and with a sum waiting on a stalled output; then every sum
    is right."""
    bench = await Bench.start(dut)
    await bench.reset()
    lanes = bench.config["lanes"]
    a, b = operands(bench, 20, 4 * lanes, "normal"), operands(bench, 20, 4 * lanes, "normal")
    for output_held in (False, True):
        bench["operands"].stall(bench.rng, 0.3)
        bench["result"].stall(bench.rng, 0.3)
        for row in range(20):
            for beat in range(4):
                part = slice(beat * lanes, (beat + 1) * lanes)
                bench["operands"].send_nowait({"a": a[row, part], "b": b[row, part], "first": beat == 0,
                                               "last": beat == 3})
        if output_held:
            await bench.hold_output("result")
        else:
            await ClockCycles(dut.clk, int(bench.rng.integers(5, 40)))
        await bench.reset()
    await run_dots(bench, a, b, 0.2, 0.2)
