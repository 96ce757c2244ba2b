"""cocotb bench of the float multipliers (L-Mul and the exact RNE baseline) against ``golden.lmul``."""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge

from golden.fp import FloatFormat, decode, fields, is_inf, is_nan
from golden.lmul import exact_mul, lmul
from verif import coverage
from verif.bench import Bench
from verif.scoreboard import Scoreboard

TIMEOUT = {"timeout_time": 100, "timeout_unit": "ms"}
CLASSES = ("zero", "subnormal", "normal", "inf", "nan")
#: How a product of two normal operands comes out. Exact multiplier (round to nearest, ties to even): exact,
#: rounded down or up in magnitude, a tie, above the largest finite value, below the smallest normal (flushed).
#: L-Mul: equal to, below or above the exact product, or the exact product out of range.
ROUNDING = {"exact_fp_mul": ("exact", "down", "up", "tie", "overflow", "flush"),
            "lmul": ("exact", "below", "above", "overflow", "flush")}


def classes(bits: np.ndarray, f: FloatFormat) -> np.ndarray:
    """The class of each bit pattern: zero, subnormal, normal, inf or NaN."""
    _, e, m = fields(bits, f)
    out = np.where(e == 0, np.where(m == 0, "zero", "subnormal"), "normal")
    return np.where(is_nan(bits, f), "nan", np.where(is_inf(bits, f), "inf", out))


def rounding_cases(a: np.ndarray, b: np.ndarray, product: np.ndarray, f: FloatFormat, block: str) -> np.ndarray:
    """The rounding case (:data:`ROUNDING`) of each product of two normal operands ("" for other pairs): the
    exact product (float64 holds it exactly) against the range and against the result."""
    p = np.abs(decode(a, f) * decode(b, f))
    r = np.abs(decode(product, f))
    m, e = np.frexp(p)
    ulps = np.ldexp(m, f.man_bits + 1)  # the exact product in units of the result format's last place
    tie = ulps - np.floor(ulps) == 0.5
    if block == "lmul":
        case = np.where(r == p, "exact", np.where(r < p, "below", "above"))
    else:
        case = np.where(tie, "tie", np.where(r == p, "exact", np.where(r < p, "down", "up")))
    case = np.where(p > f.max_finite, "overflow", np.where(p < f.min_normal, "flush", case))
    normal = (classes(a, f) == "normal") & (classes(b, f) == "normal")
    return np.where(normal, case, "")


def cover_products(bench: Bench, a: np.ndarray, b: np.ndarray, product: np.ndarray) -> None:
    """``<block>.operand_classes`` (class of a x class of b) and ``<block>.rounding`` for every pair."""
    block, f = bench.manifest["block"], float_format(bench)
    operands = coverage.cross(f"{block}.operand_classes", {"a": CLASSES, "b": CLASSES})
    rounding = coverage.point(f"{block}.rounding", ROUNDING[block])
    for ca, cb, case in zip(classes(a, f).tolist(), classes(b, f).tolist(),
                            rounding_cases(a, b, product, f, block).tolist(), strict=True):
        operands(ca, cb)
        if case:
            rounding(case)


def float_format(bench: Bench) -> FloatFormat:
    cfg = bench.config
    return FloatFormat(cfg["exp_bits"], cfg["man_bits"], has_inf=not cfg["finite_only"])


def golden(bench: Bench, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cfg, f = bench.config, float_format(bench)
    if bench.manifest["block"] == "lmul":
        return lmul(a, b, f, cfg["norm"], cfg["overflow"])
    return exact_mul(a, b, f, cfg["overflow"])


async def run_pairs(bench: Bench, a: np.ndarray, b: np.ndarray, stall_in: float, stall_out: float) -> None:
    """Stream every (a, b) pair with random stalls and compare each product with the golden model."""
    bench["operands"].stall(bench.rng, stall_in)
    bench["result"].stall(bench.rng, stall_out)
    expected = golden(bench, a, b)
    cover_products(bench, a, b, expected)
    scoreboard = Scoreboard(f"{bench.manifest['preset']} product", bench.dut._log)
    width = float_format(bench).width
    for x, y, z in zip(a.tolist(), b.tolist(), expected.tolist(), strict=True):
        bench["operands"].send_nowait({"a": x, "b": y})
        scoreboard.expect(z, f"a=0x{x:0{width // 4}x} b=0x{y:0{width // 4}x}")
    result = bench["result"]
    for _ in range(len(a)):
        scoreboard.compare(result.codec.unpack(await result.recv())["product"])
    scoreboard.check()


def directed_values(f: FloatFormat) -> np.ndarray:
    """Zeros, subnormals, the smallest and largest normals, one, infinity and NaN, with both signs."""
    m = f.man_bits
    magnitudes = [0, 1, (1 << m) - 1, 1 << m, (1 << m) | 1, f.bias << m, (f.bias << m) | ((1 << m) - 1),
                  ((f.bias + 1) << m), f.max_finite_bits, f.max_finite_bits - 1, f.nan_bits,
                  ((f.max_exp_field // 2 + f.bias // 2) << m) | 5]
    if f.has_inf:
        magnitudes += [f.inf_bits, f.inf_bits | 1]
    magnitudes = np.array(magnitudes, dtype=np.int64)
    return np.concatenate([magnitudes, magnitudes | (1 << (f.width - 1))])


def random_operands(bench: Bench, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform bit patterns, normal-distributed values, and exponent pairs near overflow and underflow."""
    f, rng = float_format(bench), bench.rng
    quarter = n // 4
    uniform = rng.integers(0, 1 << f.width, size=(2, quarter))
    man = rng.integers(0, 1 << f.man_bits, size=(2, 3 * quarter))
    sign = rng.integers(0, 2, size=(2, 3 * quarter))
    centre = rng.integers(f.bias - 3, f.bias + 3, size=(2, quarter))
    high = rng.integers(f.max_exp_field - 2, f.max_exp_field + 1, size=(2, quarter))
    high[1] = np.clip(f.max_exp_field + f.bias - high[0] + rng.integers(-2, 3, quarter), 1, f.max_exp_field)
    low = rng.integers(1, 4, size=(2, quarter))
    low[1] = np.clip(f.bias + 1 - low[0] + rng.integers(-2, 3, quarter), 1, f.max_exp_field)
    exps = np.concatenate([centre, high, low], axis=1)
    shaped = (sign << (f.width - 1)) | (exps << f.man_bits) | man
    both = np.concatenate([uniform, shaped], axis=1)
    return both[0], both[1]


@cocotb.test(**TIMEOUT)
async def all_pairs_or_random_distributions(dut):
    """8-bit formats: every one of the 65,536 operand pairs. Wider formats: random pairs from four
    distributions (uniform bits, values near 1, near overflow, near underflow)."""
    bench = await Bench.start(dut)
    f = float_format(bench)
    if f.width <= 8:
        a, b = (g.ravel() for g in np.meshgrid(np.arange(1 << f.width), np.arange(1 << f.width)))
    else:
        a, b = random_operands(bench, 20_000)
    await run_pairs(bench, a.astype(np.int64), b.astype(np.int64), 0.2, 0.2)


@cocotb.test(**TIMEOUT)
async def directed_special_values(dut):
    bench = await Bench.start(dut)
    values = directed_values(float_format(bench))
    a, b = (g.ravel() for g in np.meshgrid(values, values))
    await run_pairs(bench, a, b, 0.3, 0.5)


@cocotb.test(**TIMEOUT)
async def full_throughput_and_latency(dut):
    """Without stalls one pair is accepted every cycle and its product appears ``latency`` cycles later."""
    bench = await Bench.start(dut)
    transfers = bench.watch_transfers("operands", "result")
    await RisingEdge(dut.clk)
    a, b = random_operands(bench, 400)
    await run_pairs(bench, a, b, 0.0, 0.0)
    accepted, produced = transfers["operands"], transfers["result"]
    assert len(accepted) == len(a), f"{len(accepted)} operand beats seen, {len(a)} sent"
    assert accepted[-1] - accepted[0] + 1 == len(a), "operands were not accepted every cycle"
    latency = bench.manifest["latency"]
    # a combinational unit (latency 0) answers in the cycle it accepts
    assert produced[0] - accepted[0] == latency, f"latency {produced[0] - accepted[0]}, expected {latency}"


@cocotb.test(**TIMEOUT)
async def reset_in_the_middle_of_a_stream(dut):
    """Reset while idle, with operands streaming in, and with a product waiting on a stalled output; then
    every product is right."""
    bench = await Bench.start(dut)
    await bench.reset()
    for output_held in (False, True):
        a, b = random_operands(bench, 400)
        bench["operands"].stall(bench.rng, 0.3)
        bench["result"].stall(bench.rng, 0.3)
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            bench["operands"].send_nowait({"a": x, "b": y})
        if output_held:
            await bench.hold_output("result")
        else:
            await ClockCycles(dut.clk, int(bench.rng.integers(3, 30)))
        await bench.reset()
    a, b = random_operands(bench, 400)
    await run_pairs(bench, a, b, 0.3, 0.3)
