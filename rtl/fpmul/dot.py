"""The dot-product unit: N float multipliers (L-Mul or exact) and a wider float accumulator."""

from __future__ import annotations

from dataclasses import dataclass, replace

from amaranth.hdl import Array, Module, Mux, Signal
from amaranth.lib import data

from ..common.arith import tree_depth
from ..common.float import ADDER_CUTS, FloatSpec, add, widen
from ..common.naming import unique_name
from ..common.pipeline import delay, follow, staged_trees
from ..common.validate import check_choice, check_int
from .config import NORMS, ExactFpMulConfig, LMulConfig, _FloatMulBase
from .exact import ExactFpMul
from .lmul import LMul
from .unit import FloatUnit

MULTIPLIERS = ("lmul", "exact")


@dataclass(frozen=True)
class FpDotConfig(_FloatMulBase):
    """``lanes`` products per beat in the operand format, summed in the accumulator format.

    Parameters (besides the operand format, ``overflow`` and ``finite_only`` of :class:`LMulConfig`)
    ----------
    lanes : int, 1..64
    multiplier : "lmul" | "exact"
        L-Mul lanes, or exact RNE lanes (the baseline).
    norm : "carry" | "shift"
        L-Mul normalization (ignored by exact lanes).
    acc_exp_bits, acc_man_bits : int
        Accumulator format (default fp32, e8m23); it must hold every operand-format value exactly.
    tree_stages : int, 0..ceil(log2(lanes))
        Register stages cut into the adder tree (its levels spread evenly, as in the MAC array); each adds one
        cycle of latency.
    adder_stages : int, 0..5
        Registers inside every float adder (:data:`rtl.common.float.ADDER_CUTS`). The accumulator then becomes
        ``adder_stages + 2`` partial accumulators that take the beats in turn (each beat's addition has
        finished when its accumulator's turn comes again), summed by a pairwise tree after the ``last`` beat:
        the summation order of ``golden.dot.dot(..., partials=adder_stages + 2)``, not that of 0.
    lane_stages : int, 0..3
        Registers inside each lane's multiplier (its ``stages``); each adds one cycle of latency.
    """

    lanes: int = 8
    multiplier: str = "lmul"
    norm: str = "carry"
    acc_exp_bits: int = 8
    acc_man_bits: int = 23
    stages: int = 3
    tree_stages: int = 0
    adder_stages: int = 0
    lane_stages: int = 0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        super().__post_init__()
        check_int(owner, "stages", self.stages, 3, 3)
        check_int(owner, "lanes", self.lanes, 1, 64)
        levels = tree_depth(self.lanes)
        check_int(owner, "tree_stages", self.tree_stages, 0, levels,
                  why=f"(the adder tree of lanes={self.lanes} has {levels} levels)")
        check_int(owner, "adder_stages", self.adder_stages, 0, max(ADDER_CUTS),
                  why="(registers inside each float adder)")
        check_int(owner, "lane_stages", self.lane_stages, 0, 3, why="(registers inside each lane's multiplier)")
        check_choice(owner, "multiplier", self.multiplier, MULTIPLIERS)
        check_choice(owner, "norm", self.norm, NORMS)
        # A finite-only operand format uses its top exponent code for numbers, which an accumulator format of the
        # same exponent width keeps for inf and NaN: it needs one exponent bit more to hold every operand.
        fits = self.exp_bits + (1 if self.finite_only else 0)
        check_int(owner, "acc_exp_bits", self.acc_exp_bits, fits, 11,
                  why=f"(to hold every operand exactly: exp_bits={self.exp_bits}, finite_only={self.finite_only})")
        check_int(owner, "acc_man_bits", self.acc_man_bits, self.man_bits, 23,
                  why=f"(to hold every operand exactly: man_bits={self.man_bits})")

    @property
    def acc_spec(self) -> FloatSpec:
        return FloatSpec(self.acc_exp_bits, self.acc_man_bits, False)

    @property
    def operand_layout(self) -> data.StructLayout:
        return data.StructLayout({"a": data.ArrayLayout(self.spec.width, self.lanes),
                                  "b": data.ArrayLayout(self.spec.width, self.lanes), "first": 1, "last": 1})

    @property
    def result_layout(self) -> data.StructLayout:
        return data.StructLayout({"sum": self.acc_spec.width})

    @property
    def ops_per_cycle(self) -> int:
        return self.lanes

    @property
    def partials(self) -> int:
        """Accumulators that take the beats in turn: one per cycle from reading an accumulator to writing it
        back (with ``adder_stages``, a read register and the adder's ``adder_stages + 1`` cycles)."""
        return self.adder_stages + 2 if self.adder_stages else 1

    @property
    def latency(self) -> int:
        """Cycles from a ``last`` beat to its result: products, adder tree (plus ``tree_stages``), accumulator;
        with ``adder_stages``, each adder's registers, and the sum of the partial accumulators (a snapshot
        register and a pairwise tree with a register between its levels)."""
        base = self.stages + self.lane_stages + self.tree_stages
        if self.partials == 1:
            return base
        sum_levels = tree_depth(self.partials)
        return base + self.adder_stages * (tree_depth(self.lanes) + 1 + sum_levels) + sum_levels

    @property
    def top_name(self) -> str:
        kind = f"lmul_{self.norm}" if self.multiplier == "lmul" else "exact"
        encoded = ("exp_bits", "man_bits", "finite_only", "multiplier", "lanes")
        encoded += ("norm",) if self.multiplier == "lmul" else ()
        return unique_name(f"dot_{kind}_{self.format_name}_x{self.lanes}", self, encoded)

    def lane_config(self) -> LMulConfig | ExactFpMulConfig:
        fields = dict(exp_bits=self.exp_bits, man_bits=self.man_bits, finite_only=self.finite_only,
                      overflow=self.overflow, stages=self.lane_stages)
        return LMulConfig(**fields, norm=self.norm) if self.multiplier == "lmul" else ExactFpMulConfig(**fields)

    def baseline(self) -> FpDotConfig | None:
        if self.multiplier == "exact":
            return None
        return replace(self, multiplier="exact")


class FpDot(FloatUnit):
    """Dot product of ``lanes``-wide beats: ``sum += tree(widen(a[i] * b[i]))``, ``first``/``last`` delimit one
    dot product over ``K = beats x lanes`` elements.

    Summation order and rounding are those of ``golden.dot``: the products (L-Mul or exact, in the operand
    format) are widened exactly to the accumulator format, summed by a balanced pairwise tree of adders, and the
    beat's sum is added to the accumulator (a ``first`` beat starts it). Every addition rounds to nearest even,
    reads subnormals as zero and flushes exact sums below the smallest normal.

    Pipeline (one global stall, like :class:`MacArray`): products registered, tree sum registered (with
    ``tree_stages`` more registers inside the tree), accumulate and emit on ``last``. Latency ``3 + tree_stages``
    cycles from a ``last`` beat to its result; one beat per cycle. With ``adder_stages`` every adder holds that
    many registers, the accumulator is ``adder_stages + 2`` partial accumulators taking the beats in turn, and
    after the ``last`` beat's addition the accumulators are registered and summed pairwise (those that received
    no beat pass the other up; a register between the sum's levels): latency ``3 + lane_stages + tree_stages +
    adder_stages x (tree levels + 1 + sum levels) + sum levels`` (:attr:`FpDotConfig.latency`), still one beat
    per cycle. ``lane_stages`` adds registers inside the lanes' multipliers.

    Attributes
    ----------
    operands : In(stream.Signature({a: lanes x word, b: lanes x word, first, last}))
    result : Out(stream.Signature({sum}))
        The accumulator-format dot product, one per ``last`` beat.
    """

    def elaborate(self, platform):
        m = Module()
        cfg, spec, acc_spec = self.config, self.config.spec, self.config.acc_spec
        lane_cls = LMul if cfg.multiplier == "lmul" else ExactFpMul
        out_valid = Signal()
        advance = Signal()
        m.d.comb += [advance.eq(~out_valid | self.result.ready), self.operands.ready.eq(advance)]
        accept = self.operands.valid & advance

        products = []
        for i in range(cfg.lanes):
            lane = lane_cls(cfg.lane_config())
            m.submodules[f"lane{i}"] = lane
            # Always valid, taken when the dot unit advances: once full (`lane_stages` cycles after a reset, before
            # any result can stall the unit) a lane's stages move exactly when the unit's do.
            m.d.comb += [lane.operands.valid.eq(1), lane.result.ready.eq(advance if cfg.lane_stages else 1),
                         lane.operands.payload.a.eq(self.operands.payload.a[i]),
                         lane.operands.payload.b.eq(self.operands.payload.b[i])]
            products.append(widen(m, spec, acc_spec, lane.result.payload.product, f"product{i}"))

        # the beat's valid and flags beside the lanes' registers
        taken, flags, lane_regs = follow(m, advance, accept, {"first": self.operands.payload.first,
                                                              "last": self.operands.payload.last},
                                         cfg.lane_stages, "lane")
        first, last = flags["first"], flags["last"]
        a_valid, a_first, a_last = Signal(), Signal(), Signal()
        a_prod = [Signal(acc_spec.width, name=f"a_prod{i}", reset_less=True) for i in range(cfg.lanes)]
        with m.If(advance):
            m.d.sync += a_valid.eq(taken)
            with m.If(taken):
                m.d.sync += [a_first.eq(first), a_last.eq(last)]
                m.d.sync += [reg.eq(p) for reg, p in zip(a_prod, products, strict=True)]

        # the pairwise order of golden.dot.tree_sum, cut by `tree_stages` registers
        register = _register(m, advance)

        def combine(x, y, name):
            return add(m, acc_spec, cfg.overflow, x, y, name, cfg.adder_stages, register)

        (tree_sum,), t_valid, t_flags, stages = staged_trees(
            m, [a_prod], cfg.tree_stages, advance, a_valid, {"first": a_first, "last": a_last}, combine,
            latency=cfg.adder_stages)
        b_valid, b_first, b_last = Signal(), Signal(), Signal()
        b_sum = Signal(acc_spec.width, reset_less=True)
        with m.If(advance):
            m.d.sync += [b_valid.eq(t_valid), b_first.eq(t_flags["first"]), b_last.eq(t_flags["last"])]
            with m.If(t_valid):
                m.d.sync += b_sum.eq(tree_sum)

        out_sum = Signal(acc_spec.width, reset_less=True)
        if cfg.partials == 1:
            acc = Signal(acc_spec.width, reset_less=True)
            total = Mux(b_first, b_sum, add(m, acc_spec, cfg.overflow, acc, b_sum, "accumulate"))
            with m.If(advance):
                m.d.sync += out_valid.eq(b_valid & b_last)
                with m.If(b_valid):
                    m.d.sync += acc.eq(total)
                    with m.If(b_last):
                        m.d.sync += out_sum.eq(total)
        else:
            stages += self._partial_accumulators(m, advance, t_valid, t_flags["first"], b_valid, b_last, b_sum,
                                                 out_valid, out_sum)
        m.d.comb += [self.result.valid.eq(out_valid), self.result.payload.sum.eq(out_sum)]
        if self.count_held:
            m.d.comb += self.held.eq(out_valid + (b_valid & b_last) + (a_valid & a_last)
                                     + sum(valid & flags["last"] for valid, flags in stages + lane_regs))
        return m

    def _partial_accumulators(self, m, advance, t_valid, t_first, b_valid, b_last, b_sum, out_valid, out_sum):
        """``partials`` accumulators taking the beats in turn through the pipelined adder, then their pairwise
        sum into ``out_sum``. Returns the (valid, flags) registers on the way, for ``held``."""
        cfg, acc_spec = self.config, self.config.acc_spec
        count, s = cfg.partials, cfg.adder_stages
        register = _register(m, advance)

        # the accumulator the beat goes to, whether it starts it, and how many hold a beat of this dot product,
        # registered with the beat's sum (from the previous beat's, registered beside it)
        b_slot = Signal(range(count), name="b_slot")
        b_fresh = Signal(name="b_fresh")
        b_count = Signal(range(count + 1), name="b_count")
        t_slot = Signal(range(count), name="t_slot")
        m.d.comb += t_slot.eq(Mux(t_first | (b_slot == count - 1), 0, b_slot + 1))
        # the accumulator is read into a register beside the beat's sum: the addition it joins then spans
        # `adder_stages + 2` cycles, and as many accumulators take turns, so a read never waits for a write
        accs = [Signal(acc_spec.width, name=f"acc{i}", reset_less=True) for i in range(count)]
        padded = accs + accs[-1:] * ((1 << len(t_slot)) - count)  # every slot value selects: a full case
        b_acc = Signal(acc_spec.width, name="b_acc", reset_less=True)
        with m.If(advance & t_valid):
            m.d.sync += [b_slot.eq(t_slot), b_acc.eq(Array(padded)[t_slot]),
                         b_fresh.eq(t_first | (b_count < count)),
                         b_count.eq(Mux(t_first, 1, Mux(b_count < count, b_count + 1, count)))]

        total = add(m, acc_spec, cfg.overflow, b_acc, b_sum, "accumulate", s, register)
        c_valid, c_flags, in_flight = follow(m, advance, b_valid, {"last": b_last}, s, "acc")
        c_last = c_flags["last"]
        c_slot, c_fresh, c_count, c_sum = (delay(m, advance, v, s, f"acc_{n}")[-1] for v, n in
                                           ((b_slot, "slot"), (b_fresh, "fresh"), (b_count, "count"),
                                            (b_sum, "beat_sum")))
        result = Signal(acc_spec.width, name="acc_result")
        m.d.comb += result.eq(Mux(c_fresh, c_sum, total))
        # the sum's operands: every accumulator as it stands once the last beat's addition is written
        snap = [Signal(acc_spec.width, name=f"acc_final{i}", reset_less=True) for i in range(count)]
        snap_count = Signal(range(count + 1), name="acc_final_count", reset_less=True)
        snap_valid = Signal(name="acc_final_valid")
        with m.If(advance):
            m.d.sync += snap_valid.eq(c_valid & c_last)
            for i, acc in enumerate(accs):
                with m.If(c_valid & (c_slot == i)):
                    m.d.sync += acc.eq(result)
            with m.If(c_valid & c_last):
                m.d.sync += [reg.eq(Mux(c_slot == i, result, acc))
                             for i, (reg, acc) in enumerate(zip(snap, accs, strict=True))]
                m.d.sync += snap_count.eq(c_count)
        in_flight.append((snap_valid, {"last": snap_valid}))

        # golden.dot.tree_sum over the accumulators that hold a beat (a prefix: an absent one passes the other up)
        level = [(acc, snap_count > i) for i, acc in enumerate(snap)]
        depth = 0
        while len(level) > 1:
            paired = []
            for i in range(0, len(level) - 1, 2):
                (x, x_here), (y, y_here) = level[i], level[i + 1]
                name = f"final{depth}_{i // 2}"
                total = add(m, acc_spec, cfg.overflow, x, y, name, s, register)
                x, x_here, y_here = (delay(m, advance, v, s, f"{name}_{n}")[-1] for v, n in
                                     ((x, "x"), (x_here, "x_here"), (y_here, "y_here")))
                paired.append((Mux(y_here, total, x), x_here))
            if len(level) % 2:
                x, x_here = level[-1]
                paired.append(tuple(delay(m, advance, v, s, f"final{depth}_pass_{n}")[-1] for v, n in
                                    ((x, "x"), (x_here, "here"))))
            if len(paired) > 1:  # a register between levels: one adder's rounding, the next one's ordering
                paired = [tuple(register(v, f"final{depth}_{i}_{n}") for v, n in zip(pair, ("sum", "here"),
                                                                                     strict=True))
                          for i, pair in enumerate(paired)]
            level, depth = paired, depth + 1
        f_valid, _, regs = follow(m, advance, snap_valid, {}, s * depth + depth - 1, "final")
        in_flight += [(v, {"last": v}) for v, _ in regs]  # every beat of the final sum is a last one
        with m.If(advance):
            m.d.sync += out_valid.eq(f_valid)
            with m.If(f_valid):
                m.d.sync += out_sum.eq(level[0][0])
        return in_flight


def _register(m, advance):
    """One register loaded when the unit advances: the cut the pipelined adders take."""
    return lambda value, name: delay(m, advance, value, 1, name)[0]
