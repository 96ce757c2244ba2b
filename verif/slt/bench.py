"""cocotb bench of the SLT engine against ``golden.slt``: outputs and performance counters at every sparsity,
with and without output reuse, binary and ternary, stalls, reset and malformed streams."""

from __future__ import annotations

from dataclasses import dataclass

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from gen.payload import PayloadCodec
from golden import slt
from golden.intmath import wrap_signed
from verif import coverage, gemm
from verif.bench import Bench
from verif.scoreboard import Scoreboard

TIMEOUT = {"timeout_time": 50, "timeout_unit": "ms"}
SPARSITIES = [0.0, 0.33, 0.5, 0.62, 0.75, 0.9, 1.0]
STALLS = [(0.0, 0.0), (0.3, 0.3), (0.6, 0.1), (0.1, 0.8), (0.5, 0.5)]


#: Every kind of malformed stream :func:`corruptions` makes (each configuration makes those its fields allow).
ERRORS = ("bad mode 0b11", "Buffer mode without a mask", "sign on a zero weight", "empty Buffer group",
          "LUT group with a zero weight", "delta code (magnitude 2) outside a member row",
          "LUT group of mixed magnitudes", "role 0b11", "center id out of range", "group beyond its bank",
          "truncated pass (end before count)", "missing end flag", "beat count 0",
          "full Buffer group without output reuse")
MODES = {slt.LUT: "lut", slt.BUFFER: "buffer"}
ROLES = {slt.PLAIN: "plain", slt.CENTER: "center", slt.MEMBER: "member"}


def cover_plan(bench: Bench, plan: Plan, accepted: list[int]) -> None:
    """``slt.groups`` (mode x read ports x role of the row, every non-zero group of the weight stream) and
    ``slt.buffer_passes`` (cycles each Buffer group takes)."""
    ports = bench.config["read_ports"]
    groups = coverage.cross("slt.groups", {"mode": tuple(MODES.values()), "read_ports": (1, 2, 3),
                                           "role": tuple(ROLES.values())})
    passes = coverage.point("slt.buffer_passes", ("1", "2", "3+"))
    for beat in plan.weight_beats:
        roles = beat.get("role", np.zeros(bench.config["rows"], dtype=np.int64))
        for (row, _), mode in np.ndenumerate(beat["mode"]):
            if mode != slt.IDLE:
                groups(MODES[int(mode)], ports, ROLES[int(roles[row])])
    for block in plan.program.blocks:
        for beats in block.tiles:
            for beat in beats:
                for item in (it for row in beat.items for it in row if it is not None and it.mode == slt.BUFFER):
                    n = -(-item.nnz // ports)
                    passes(str(n) if n < 3 else "3+")


def params(cfg: dict) -> slt.Params:
    return slt.Params(**{name: cfg[name] for name in ("k", "g", "rows", "lanes", "read_ports", "act_bits",
                                                        "weight_kind", "n_centers", "acc_bits", "max_k")})


@dataclass
class Plan:
    """One GEMV/GEMM on the engine's streams, its expected output beats and counters."""

    weight_beats: list[dict]
    act_beats: list[dict]
    out_beats: list[np.ndarray]
    counters: slt.Counters
    program: slt.Program


def encode(bench: Bench, beat: slt.Beat, block: slt.Block) -> dict:
    """A golden beat as the ``weights`` payload fields the manifest lists."""
    cfg = bench.config
    shape = (cfg["rows"], cfg["lanes"])
    fields = {name: np.zeros(shape, dtype=np.int64) for name in ("mode", "group", "mask", "sign", "mag")}
    for r, row in enumerate(beat.items):
        for lane, item in enumerate(row):
            if item is not None:
                for name, value in (("mode", item.mode), ("group", item.index), ("mask", item.mask),
                                    ("sign", item.sign), ("mag", item.mag)):
                    fields[name][r, lane] = value
    codec = bench["weights"].codec
    out = {name: value for name, value in fields.items() if codec.has(name)}
    if codec.has("role"):
        out["role"], out["center"] = np.array(block.roles), np.array(block.centers)
    out["count"], out["end"] = beat.count, int(beat.end)
    return out


def plan_gemv(bench: Bench, w: np.ndarray, x: np.ndarray, clustering: bool = True,
              balance: bool = True, reorder: bool = False) -> Plan:
    """Schedule ``y = W x`` for each row of ``x`` with ``golden.slt`` (``reorder``: index reordering) and cut it
    into stream beats."""
    p = params(bench.config)
    gemm.cover_weights(bench, w)
    y, counters, program = slt.gemv(w, x, p, None if clustering else 0, balance, reorder)
    assert (y == wrap_signed(np.atleast_2d(x) @ np.asarray(w).T, p.acc_width)).all()
    xp = slt.pad_k(np.atleast_2d(x), p.k)
    weights, acts, outs = [], [], []
    for tok in range(xp.shape[0]):
        for block in program.blocks:
            for t, beats in enumerate(block.tiles):
                acts.append({"data": xp[tok, t * p.k:(t + 1) * p.k], "first": int(t == 0),
                             "last": int(t == program.tiles - 1)})
                weights += [encode(bench, beat, block) for beat in beats]
            outs.append(np.array([0 if i is None else y[tok, i] for i in block.row_ids]))
    return Plan(weights, acts, outs, counters, program)


def read_perf(bench: Bench) -> dict[str, int]:
    port = next(p for p in bench.manifest["ports"] if p["name"] == "perf")
    codec = PayloadCodec({"width": port["width"], "fields": port["fields"]})
    return codec.unpack(int(bench.dut.perf.value))


def queue(bench: Bench, plan: Plan, context: str) -> Scoreboard:
    scoreboard = Scoreboard(f"{bench.manifest['preset']} out", bench.dut._log)
    for beat in plan.weight_beats:
        bench["weights"].send_nowait(beat)
    for beat in plan.act_beats:
        bench["acts"].send_nowait(beat)
    for i, beat in enumerate(plan.out_beats):
        scoreboard.expect(beat, f"{context}: output beat {i}")
    return scoreboard


async def run_plan(bench: Bench, plan: Plan, context: str, stall_in: float = 0.0,
                   stall_out: float = 0.0) -> None:
    """Stream a plan with random stalls (:func:`verif.gemm.stream`: every output, nothing more, ``busy``
    falls); then check ``error`` and the counters' increments."""
    before = read_perf(bench)
    await gemm.stream(bench, plan, context, stall_in, stall_out, queue=queue, cover=cover_plan)
    assert await bench.sample(bench.dut.error) == 0, "error set by valid input"
    check_counters(bench, before, plan, context)


def check_counters(bench: Bench, before: dict[str, int], plan: Plan, context: str) -> None:
    after = read_perf(bench)
    mask = (1 << bench.config["counter_bits"]) - 1
    for name in slt.Counters.RTL:
        got = (after[name] - before[name]) & mask
        want = getattr(plan.counters, name) & mask
        assert got == want, f"{context}: counter {name} = {got}, golden model {want}"


def random_acts(bench: Bench, t: int, k: int) -> np.ndarray:
    bits = bench.config["act_bits"]
    return bench.rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=(t, k))


def random_weights(bench: Bench, m: int, k: int, sparsity: float, correlated: bool = False) -> np.ndarray:
    if bench.config["weight_kind"] == "binary":
        return bench.rng.choice([-1, 1], size=(m, k))
    if correlated:
        return slt.correlated_ternary(bench.rng, m, k, sparsity, prototypes=3, flip=0.15)
    return slt.random_ternary(bench.rng, m, k, sparsity)


def clustered(bench: Bench) -> bool:
    return bench.config["n_centers"] > 0


@cocotb.test(**TIMEOUT)
async def gemvs_at_each_sparsity(dut):
    """Random GEMVs and GEMMs (several activation vectors) at every sparsity of the spec, K and M not multiples
    of the tile, with stalls on every stream; with clustering the weights have rows to reuse, and every other
    case runs without it; every third case with index reordering."""
    bench = await Bench.start(dut)
    cfg = bench.config
    for i, sparsity in enumerate(SPARSITIES):
        m = 2 * cfg["rows"] + 1 + i
        k = (i % 3 + 1) * cfg["k"] + cfg["g"] * (i % 2) + (i % 2)
        tokens = 1 + i % 3
        stall_in, stall_out = STALLS[i % len(STALLS)]
        reuse = clustered(bench) and i % 2 == 0
        w = random_weights(bench, m, k, sparsity, correlated=clustered(bench))
        reorder = i % 3 == 1
        plan = plan_gemv(bench, w, random_acts(bench, tokens, k), clustering=reuse, balance=i % 2 == 0,
                         reorder=reorder)
        await run_plan(bench, plan, f"sparsity {sparsity}, W{w.shape}, {tokens} vectors, reuse {reuse}, "
                       f"reorder {reorder}", stall_in, stall_out)


@cocotb.test(**TIMEOUT)
async def directed_weights(dut):
    """All-zero rows, a single non-zero weight, a whole matrix of zeros, every weight +1 or -1 against the
    extreme activations, and (with clustering) identical rows, whose deltas are empty, and rows whose deltas
    are one LUT group of +-2."""
    bench = await Bench.start(dut)
    cfg = bench.config
    rows, k = cfg["rows"], 2 * cfg["k"]
    amin, amax = -(1 << (cfg["act_bits"] - 1)), (1 << (cfg["act_bits"] - 1)) - 1
    acts = [np.full((1, k), amin), np.full((1, k), amax), np.resize([amin, amax], (2, k))]
    cases = [np.ones((rows + 1, k), dtype=np.int64), -np.ones((rows, k), dtype=np.int64)]
    if cfg["weight_kind"] == "ternary":
        single = np.zeros((rows + 2, k), dtype=np.int64)
        single[1, k // 2] = -1
        zero_rows = random_weights(bench, 2 * rows, k, 0.3)
        zero_rows[::2] = 0
        cases += [single, zero_rows, np.zeros((rows, k), dtype=np.int64)]
    if clustered(bench):
        base = random_weights(bench, 1, k, 0.3)
        cases.append(np.repeat(base, 2 * rows, axis=0))
        # rows that differ from a row of +-1 weights in one group, negated: their deltas are one LUT group of +-2
        full = bench.rng.choice([-1, 1], size=k)
        flipped = np.repeat(full[None], k // cfg["g"] + 1, axis=0)
        for j in range(k // cfg["g"]):
            flipped[j + 1, j * cfg["g"]:(j + 1) * cfg["g"]] *= -1
        cases.append(flipped)
    for w in cases:
        for x in acts:
            await run_plan(bench, plan_gemv(bench, w, x), f"directed W{w.shape}", 0.2, 0.2)


@cocotb.test(**TIMEOUT)
async def cycles_equal_the_golden_model(dut):
    """Without stalls the engine takes exactly the golden model's cycles: one beat (pass) a cycle, tables
    rebuilt without a bubble, outputs ``DRAIN_CYCLES`` after the last read."""
    bench = await Bench.start(dut)
    cfg = bench.config
    for sparsity in (0.0, 0.62):
        k = 3 * cfg["k"]
        w = random_weights(bench, 3 * cfg["rows"], k, sparsity, correlated=clustered(bench))
        plan = plan_gemv(bench, w, random_acts(bench, 2, k))
        transfers = bench.watch_transfers("acts", "out")
        await run_plan(bench, plan, f"timed, sparsity {sparsity}")
        acts, outs = transfers["acts"], transfers["out"]
        span = outs[-1] - acts[0] + 1
        assert span == plan.counters.cycles, f"{span} cycles, golden model {plan.counters.cycles}"
        first_out = outs[0] - acts[0] + 1
        first_block = plan.program.blocks[0]
        first_reads = sum(beat.passes(cfg["read_ports"]) for beats in first_block.tiles for beat in beats)
        assert first_out == 1 + first_reads + slt.DRAIN_CYCLES


@cocotb.test(**TIMEOUT)
async def heavy_output_backpressure(dut):
    bench = await Bench.start(dut)
    cfg = bench.config
    w = random_weights(bench, 4 * cfg["rows"], 2 * cfg["k"], 0.5, correlated=clustered(bench))
    await run_plan(bench, plan_gemv(bench, w, random_acts(bench, 3, 2 * cfg["k"])), "backpressure", 0.0, 0.9)


@cocotb.test(**TIMEOUT)
async def reset_in_the_middle_of_a_stream(dut):
    """Reset drops the work in flight; the counters restart from zero and the next work is exact."""
    bench = await Bench.start(dut)
    cfg = bench.config
    w = random_weights(bench, 3 * cfg["rows"], 3 * cfg["k"], 0.4, correlated=clustered(bench))
    await gemm.interrupt_with_reset(bench, plan_gemv(bench, w, random_acts(bench, 2, 3 * cfg["k"])), queue=queue)
    assert all(v == 0 for v in read_perf(bench).values()), "counters not cleared by reset"
    await run_plan(bench, plan_gemv(bench, w, random_acts(bench, 2, 3 * cfg["k"])), "after reset", 0.3, 0.3)


def corruptions(bench: Bench, plan: Plan) -> list[tuple[str, Plan]]:
    """Malformed copies of a valid plan, one per kind of error the engine must flag."""
    cfg = bench.config
    full = (1 << cfg["g"]) - 1
    codec = bench["weights"].codec
    out = []

    def first_item(mode: int) -> tuple[int, int, int] | None:
        for b, beat in enumerate(plan.weight_beats):
            hits = np.argwhere(beat["mode"] == mode)
            if len(hits):
                return b, int(hits[0][0]), int(hits[0][1])
        return None

    def variant(name: str, edit) -> None:
        beats = [{key: (v.copy() if isinstance(v, np.ndarray) else v) for key, v in beat.items()}
                 for beat in plan.weight_beats]
        if edit(beats) is not False:
            out.append((name, Plan(beats, plan.act_beats, plan.out_beats, plan.counters, plan.program)))

    def put(at: tuple[int, int, int], name: str, value: int):
        """An edit that sets field ``name`` of the item at ``(beat, row, lane)``."""
        return lambda beats: beats[at[0]][name].__setitem__(at[1:], value)

    lut_at, buf_at = first_item(slt.LUT), first_item(slt.BUFFER)
    variant("bad mode 0b11", put(lut_at, "mode", 3))
    if not codec.has("mask"):
        variant("Buffer mode without a mask", put(lut_at, "mode", slt.BUFFER))
    if buf_at is not None:
        def sign_without_mask(beats):
            b, r, lane = buf_at
            zeros = full & ~int(beats[b]["mask"][r, lane])
            beats[b]["sign"][r, lane] |= zeros & -zeros  # a sign on a zero weight
        variant("sign on a zero weight", sign_without_mask)
        variant("empty Buffer group", put(buf_at, "mask", 0))
        if cfg["n_centers"] == 0:  # without output reuse every full group of +-1 is LUT mode
            variant("full Buffer group without output reuse", put(buf_at, "mask", full))
    if codec.has("mask"):
        def lut_not_full(beats):
            b, r, lane = lut_at
            beats[b]["mask"][r, lane] = full >> 1
            beats[b]["sign"][r, lane] &= full >> 1
        variant("LUT group with a zero weight", lut_not_full)
    if codec.has("mag"):
        def mag_outside_member(beats):
            for beat in beats:
                rows = [r for r in range(cfg["rows"]) if beat["role"][r] != slt.MEMBER]
                for r in rows:
                    if beat["mode"][r, 0] == slt.BUFFER:
                        low = int(beat["mask"][r, 0]) & -int(beat["mask"][r, 0])
                        beat["mag"][r, 0] |= low
                        return None
            return False
        variant("delta code (magnitude 2) outside a member row", mag_outside_member)
        variant("LUT group of mixed magnitudes", put(lut_at, "mag", 1))
        variant("role 0b11", lambda beats: beats[-1]["role"].__setitem__(0, 3))
        if cfg["n_centers"] < (1 << codec.field_width("center[0]")):
            variant("center id out of range",
                    lambda beats: [beats[-1]["role"].__setitem__(0, slt.MEMBER),
                                   beats[-1]["center"].__setitem__(0, cfg["n_centers"])])
    top_group = (1 << codec.field_width("group[0][0]")) - 1
    if top_group >= params(cfg).bank_groups:  # the field can name a group beyond every bank
        variant("group beyond its bank", put(lut_at, "group", top_group))
    long_pass = next((i for i, beat in enumerate(plan.weight_beats) if beat["count"] > 1 and not beat["end"]), None)
    if long_pass is not None:
        variant("truncated pass (end before count)",
                lambda beats: [beats.__setitem__(long_pass, {**beats[long_pass], "end": 1}),
                               beats.pop(long_pass + 1)])
        variant("missing end flag", lambda beats: beats[long_pass + beats[long_pass]["count"] - 1]
                .__setitem__("end", 0))
    variant("beat count 0", lambda beats: beats[0].__setitem__("count", 0))
    return out


@cocotb.test(**TIMEOUT)
async def malformed_streams_set_sticky_error(dut):
    """Each malformed stream sets ``error``, which stays high; the engine keeps consuming its streams, and
    after reset ``error`` is clear and the next work is exact."""
    bench = await Bench.start(dut)
    cfg = bench.config
    k, g = 2 * cfg["k"], cfg["g"]
    w = random_weights(bench, 3 * cfg["rows"], k, 0.45)
    w[0, :g] = 1  # the stream holds a LUT group to corrupt, whatever the random draw
    if cfg["weight_kind"] == "ternary":
        w[1, :g] = [1] + [0] * (g - 1)  # and a Buffer group
    x = random_acts(bench, 1, k)
    valid = plan_gemv(bench, w, x, clustering=False)  # the role and center fields are corrupted directly
    cases = corruptions(bench, valid)
    assert len(cases) >= 4, [name for name, _ in cases]
    for name, plan in cases:
        dut._log.info("malformed: %s", name)
        for port in ("weights", "acts", "out"):
            bench[port].stall(bench.rng, 0.0)
        queue(bench, plan, name)
        await ClockCycles(dut.clk, len(plan.weight_beats) * cfg["g"] + 20)
        assert await bench.sample(dut.error) == 1, f"{name}: error not set"
        await ClockCycles(dut.clk, 3)
        assert await bench.sample(dut.error) == 1, f"{name}: error is not sticky"
        coverage.point("slt.error", ERRORS)(name)
        await bench.reset()
        assert await bench.sample(dut.error) == 0, f"{name}: reset did not clear error"
        await run_plan(bench, plan_gemv(bench, w, x), f"after {name}")


@cocotb.test(**TIMEOUT)
async def reduction_of_max_k_extremes(dut):
    """K = max_k with every product at its extreme: the default accumulator width is exactly enough."""
    bench = await Bench.start(dut)
    cfg = bench.config
    kk = cfg["max_k"]
    amin = -(1 << (cfg["act_bits"] - 1))
    for value in (-1, 1):
        plan = plan_gemv(bench, np.full((cfg["rows"], kk), value), np.full((1, kk), amin))
        await run_plan(bench, plan, f"max_k, weights {value}")
        if cfg["acc_bits"] is None:
            assert int(np.max(np.abs(plan.out_beats))) == abs(amin) * kk
