"""The dot-product unit: N float multipliers (L-Mul or exact) and a wider float accumulator."""

from __future__ import annotations

from dataclasses import dataclass, replace

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data

from ..common.arith import tree_depth
from ..common.float import FloatSpec, add, widen
from ..common.naming import unique_name
from ..common.pipeline import staged_trees
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
    """

    lanes: int = 8
    multiplier: str = "lmul"
    norm: str = "carry"
    acc_exp_bits: int = 8
    acc_man_bits: int = 23
    stages: int = 3
    tree_stages: int = 0

    def __post_init__(self) -> None:
        owner = type(self).__name__
        super().__post_init__()
        check_int(owner, "stages", self.stages, 3, 3)
        check_int(owner, "lanes", self.lanes, 1, 64)
        levels = tree_depth(self.lanes)
        check_int(owner, "tree_stages", self.tree_stages, 0, levels,
                  why=f"(the adder tree of lanes={self.lanes} has {levels} levels)")
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
    def latency(self) -> int:
        """Cycles from a ``last`` beat to its result: products, adder tree (plus ``tree_stages``), accumulator."""
        return self.stages + self.tree_stages

    @property
    def top_name(self) -> str:
        kind = f"lmul_{self.norm}" if self.multiplier == "lmul" else "exact"
        encoded = ("exp_bits", "man_bits", "finite_only", "multiplier", "lanes")
        encoded += ("norm",) if self.multiplier == "lmul" else ()
        return unique_name(f"dot_{kind}_{self.format_name}_x{self.lanes}", self, encoded)

    def lane_config(self) -> LMulConfig | ExactFpMulConfig:
        fields = dict(exp_bits=self.exp_bits, man_bits=self.man_bits, finite_only=self.finite_only,
                      overflow=self.overflow, stages=0)
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
    cycles from a ``last`` beat to its result; one beat per cycle.

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
            m.d.comb += [lane.operands.valid.eq(1), lane.result.ready.eq(1),
                         lane.operands.payload.a.eq(self.operands.payload.a[i]),
                         lane.operands.payload.b.eq(self.operands.payload.b[i])]
            products.append(widen(m, spec, acc_spec, lane.result.payload.product, f"product{i}"))

        a_valid, a_first, a_last = Signal(), Signal(), Signal()
        a_prod = [Signal(acc_spec.width, name=f"a_prod{i}", reset_less=True) for i in range(cfg.lanes)]
        with m.If(advance):
            m.d.sync += a_valid.eq(accept)
            with m.If(accept):
                m.d.sync += [a_first.eq(self.operands.payload.first), a_last.eq(self.operands.payload.last)]
                m.d.sync += [reg.eq(p) for reg, p in zip(a_prod, products, strict=True)]

        # the pairwise order of golden.dot.tree_sum, cut by `tree_stages` registers
        (tree_sum,), t_valid, t_flags, stages = staged_trees(
            m, [a_prod], cfg.tree_stages, advance, a_valid, {"first": a_first, "last": a_last},
            lambda x, y, name: add(m, acc_spec, cfg.overflow, x, y, name))
        b_valid, b_first, b_last = Signal(), Signal(), Signal()
        b_sum = Signal(acc_spec.width, reset_less=True)
        with m.If(advance):
            m.d.sync += [b_valid.eq(t_valid), b_first.eq(t_flags["first"]), b_last.eq(t_flags["last"])]
            with m.If(t_valid):
                m.d.sync += b_sum.eq(tree_sum)

        acc = Signal(acc_spec.width, reset_less=True)
        out_sum = Signal(acc_spec.width, reset_less=True)
        total = Mux(b_first, b_sum, add(m, acc_spec, cfg.overflow, acc, b_sum, "accumulate"))
        with m.If(advance):
            m.d.sync += out_valid.eq(b_valid & b_last)
            with m.If(b_valid):
                m.d.sync += acc.eq(total)
                with m.If(b_last):
                    m.d.sync += out_sum.eq(total)
        m.d.comb += [self.result.valid.eq(out_valid), self.result.payload.sum.eq(out_sum)]
        if self.count_held:
            m.d.comb += self.held.eq(out_valid + (b_valid & b_last) + (a_valid & a_last)
                                     + sum(valid & flags["last"] for valid, flags in stages))
        return m
