"""The MAC array component (spec: ``ternary_mac.md``)."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..common.accumulate import TokenAccumulators, token_counter
from ..common.arith import popcount
from ..common.pipeline import OutputStage, staged_trees
from ..common.tile import TileDoubleBuffer
from .config import MacArrayConfig

_CODE_PLUS, _CODE_INVALID, _CODE_MINUS = 0b01, 0b10, 0b11


class MacArray(wiring.Component):
    """Weight-stationary (GEMM) or weight-streaming (GEMV) array of ``rows x cols`` processing elements.

    With ``weight_kind = "ternary"`` every PE adds, subtracts or skips its activation (BitNet b1.58,
    arXiv 2402.17764): there is no multiplier. A zero weight forces the PE's product register to 0, so the
    column adder sees a constant input while the weight is zero (operand isolation). ``weight_kind = "int8"`` is the
    conventional baseline: the same array with an 8x8 signed multiplier in each PE.

    Pipeline: accept (products registered) -> column adder trees (``tree_stages`` more registers) and
    accumulator read (registered) -> accumulate into the output buffer.
    A beat flagged ``first`` starts its accumulator from zero; a beat flagged ``last`` emits the accumulator.
    ``backpressure = "stall"``: backpressure on ``out`` stalls the whole pipeline (``acts.ready`` falls in the
    same cycle). ``"credit"``: the pipeline never stalls; results enter an output queue of ``latency + 1``
    entries and the array takes an activation beat only while a credit is free
    (:class:`rtl.common.pipeline.CreditedOutput`), so backpressure reaches ``acts.ready`` a cycle later through
    registers. Either way no beat is ever lost or duplicated. Latency: :attr:`MacArrayConfig.latency` = 3 +
    ``tree_stages`` cycles from accepting a ``last`` beat to ``out.valid``; throughput one activation beat per
    cycle while ``out`` is ready.

    Weight-stationary dataflow: the weight stream fills a shadow tile, ``rows`` beats of ``cols`` lanes, while the
    active tile computes. The shadow tile is switched in when the activation beat flagged ``tile_end`` is
    accepted (no bubble when the shadow tile is already full), or as soon as it fills when no tile is active.
    The position of a beat in its token block selects its accumulator; a block longer than ``max_tokens`` sets
    ``error`` and wraps to accumulator 0.

    Weight-streaming dataflow: each weight beat carries a whole ``rows x cols`` tile and is consumed together
    with one activation beat; one accumulator per column.

    Decisions where the spec is silent: a ternary code 0b10 acts as 0 and sets ``error`` (sticky until reset);
    ``nonzero_macs`` counts every MAC whose weight is non-zero, i.e. the adder operations actually performed.

    Parameters
    ----------
    config : MacArrayConfig

    Attributes
    ----------
    weights : In(stream.Signature(config.weight_layout))
        Weight rows (weight-stationary) or whole tiles (weight-streaming).
    acts : In(stream.Signature(config.act_layout))
        ``{data: rows x signed(act_bits), first, last, tile_end}``.
    out : Out(stream.Signature(config.out_layout))
        ``{data: cols x signed(acc_bits)}``, one beat per ``last`` activation beat, in acceptance order.
    busy : Signal(1), out
        Work is held: a beat in the pipeline or waiting on ``out``, an open token block, or a weight tile
        loading or loaded and not yet switched in.
    error : Signal(1), out
        Sticky: an invalid ternary code was loaded, or a token block exceeded ``max_tokens``.
    nonzero_macs : Signal(config.counter_bits), out
        Running count of the non-zero-weight MACs performed since reset (wraps).
    """

    def __init__(self, config: MacArrayConfig) -> None:
        self.config = config
        super().__init__({
            "weights": In(stream.Signature(config.weight_layout)),
            "acts": In(stream.Signature(config.act_layout)),
            "out": Out(stream.Signature(config.out_layout)),
            "busy": Out(1),
            "error": Out(1),
            "nonzero_macs": Out(config.counter_bits),
        })
        #: Results the array holds or computes and has not handed out: a formal-proof hook (not a port), driven
        #: only when the proof top sets ``count_held``, so that generated designs stay unchanged.
        self.held = Signal(range(config.latency + 2), name="held")
        self.count_held = False

    def _nonzero(self, weight):
        if self.config.weight_kind == "ternary":
            return (weight == _CODE_PLUS) | (weight == _CODE_MINUS)
        return weight != 0

    def _product(self, act, weight):
        if self.config.weight_kind == "ternary":
            return Mux(weight == _CODE_PLUS, act, Mux(weight == _CODE_MINUS, -act, 0))
        return act * weight

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        rows, cols = cfg.rows, cfg.cols
        tile_layout = data.ArrayLayout(data.ArrayLayout(cfg.weight_shape, cols), rows)
        stationary = cfg.dataflow == "weight_stationary"

        lo, hi = cfg.product_range
        product_shape = signed(max(abs(lo), hi).bit_length() + 1)
        sum_shape = signed(product_shape.width + (rows - 1).bit_length())
        acc_shape = signed(cfg.acc_width)

        # The output stage: the stages' enable (`advance`) and the input's permission (`accept`).
        output = OutputStage(m, self.out, cfg.backpressure, cfg.latency + 1)
        advance, accept = output.advance, output.accept

        act_fire = Signal()
        weight_error = Signal()
        beat_nnz = Signal(range(rows * cols + 1))
        tile = Signal(tile_layout)  # the weights applied to the accepted beat

        if stationary:
            tiles = TileDoubleBuffer(m, self.weights, data.ArrayLayout(cfg.weight_shape, cols), rows, name="tile",
                                     flip=cfg.backpressure == "credit")
            shadow_nnz = Signal(range(rows * cols + 1))
            active_nnz = Signal(range(rows * cols + 1))
            row_nnz = popcount([self._nonzero(self.weights.payload[c]) for c in range(cols)])
            m.d.comb += [
                tiles.release.eq(act_fire & self.acts.payload.tile_end),
                self.acts.ready.eq(tiles.active_valid & accept),
                weight_error.eq(tiles.fire & self._any_invalid([self.weights.payload])),
            ]
            with m.If(tiles.fire):
                m.d.sync += shadow_nnz.eq(Mux(tiles.load_slot == 0, 0, shadow_nnz) + row_nnz)
            with m.If(tiles.swap):
                m.d.sync += active_nnz.eq(shadow_nnz)

            token, block_overflow = token_counter(m, act_fire, self.acts.payload.tile_end, cfg.accumulators)
            m.d.comb += [tile.eq(tiles.active), beat_nnz.eq(active_nnz)]
            block_open = (token != 0) | tiles.holding
        else:
            m.d.comb += [
                self.acts.ready.eq(self.weights.valid & accept),
                self.weights.ready.eq(self.acts.valid & accept),
                tile.eq(self.weights.payload),
                beat_nnz.eq(popcount([self._nonzero(tile[r][c]) for r in range(rows) for c in range(cols)])),
                weight_error.eq(act_fire & self._any_invalid(list(self.weights.payload))),
            ]
            token, block_overflow = Signal(range(2), name="token"), Const(0)  # one accumulator
            block_open = 0  # nothing is held between beats
        m.d.comb += act_fire.eq(self.acts.valid & self.acts.ready)

        # Stage A: products. A zero weight loads 0, so its adder input stays constant (operand isolation).
        a_valid, a_first, a_last = Signal(), Signal(), Signal()
        a_token = Signal.like(token)
        a_prod = [[Signal(product_shape, name=f"prod_{r}_{c}", reset_less=True) for c in range(cols)]
                  for r in range(rows)]
        # Credit: the products load in every cycle (`a_valid` says whether they are a beat's), so that no
        # handshake fans out to their enables.
        with m.If(advance):
            m.d.sync += a_valid.eq(act_fire)
            with m.If(act_fire):
                m.d.sync += [a_first.eq(self.acts.payload.first), a_last.eq(self.acts.payload.last),
                             a_token.eq(token)]
            with m.If(act_fire if cfg.backpressure == "stall" else 1):
                for r in range(rows):
                    act = self.acts.payload.data[r]
                    for c in range(cols):
                        m.d.sync += a_prod[r][c].eq(self._product(act, tile[r][c]))

        # Column trees, cut by `tree_stages` registers; the beat's flags travel along (the last part is stage B's).
        sums, t_valid, t_flags, stages = staged_trees(
            m, [[a_prod[r][c] for r in range(rows)] for c in range(cols)], cfg.tree_stages, advance, a_valid,
            {"first": a_first, "last": a_last, "token": a_token})
        t_first, t_last, t_token = t_flags["first"], t_flags["last"], t_flags["token"]

        # Accumulators: one row of `cols` per token of a block. Stage B reads the row its beat will update (a
        # cycle ahead, so that stage C is a bare addition), forwarding the sum stage C writes in the same cycle.
        accs = TokenAccumulators(m, acc_shape, cols, cfg.accumulators)

        # Stage B: one adder tree per column, and the accumulator row this beat adds to (0 on `first`).
        b_valid, b_last = Signal(), Signal()
        b_token = Signal.like(token)
        b_sum = [Signal(sum_shape, name=f"colsum_{c}", reset_less=True) for c in range(cols)]
        b_prior = [Signal(acc_shape, name=f"prior_{c}", reset_less=True) for c in range(cols)]
        forward = b_valid & (b_token == t_token)
        with m.If(advance):
            m.d.sync += [b_valid.eq(t_valid), b_last.eq(t_last), b_token.eq(t_token)]
            with m.If(t_valid):
                for c in range(cols):
                    m.d.sync += [
                        b_sum[c].eq(sums[c]),
                        b_prior[c].eq(accs.prior(c, t_token, t_first, forward)),
                    ]

        # Stage C: accumulate; a `last` beat's totals go to the output stage.
        accs.add(b_prior, b_sum)
        in_flight = [a_valid & a_last, *(valid & flags["last"] for valid, flags in stages), b_valid & b_last]
        output.count(popcount(in_flight), act_fire & self.acts.payload.last, prove=self.count_held)
        output.write((b_valid, b_last), Cat(accs.total))
        m.d.comb += [
            self.busy.eq(Cat(a_valid, *(valid for valid, _ in stages), b_valid, output.busy).any() | block_open),
        ]
        with m.If(advance):
            with m.If(b_valid):
                accs.write(b_token)
        if self.count_held:
            m.d.comb += self.held.eq(output.held)
        with m.If(weight_error | block_overflow):
            m.d.sync += self.error.eq(1)
        with m.If(act_fire):
            m.d.sync += self.nonzero_macs.eq(self.nonzero_macs + beat_nnz)
        return m

    def _any_invalid(self, weight_rows) -> object:
        if self.config.weight_kind != "ternary":
            return 0
        flags = [row[c] == _CODE_INVALID for row in weight_rows for c in range(self.config.cols)]
        return Cat(*flags).any()  # one reduction: a chain of ORs recurses as deep as the array is wide
