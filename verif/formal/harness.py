"""Proof tops: the design under proof, free inputs, and the properties (Amaranth ``Assert``/``Assume``/``Cover``)."""

from __future__ import annotations

import dataclasses

from amaranth.hdl import Assert, Assume, Cat, Cover, Module, Mux, ResetSignal, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In

from gen.manifest import stream_ports
from rtl.common.float import FloatSpec, add
from rtl.fpmul import ExactFpMul, ExactFpMulConfig, LMul, LMulConfig

from . import reference


def stream_rules(m: Module, port, name: str, check, after_reset) -> None:
    """``check`` (``Assume`` for an upstream, ``Assert`` for the design) of the two stream rules on ``port``:
    nothing valid in the cycle after a reset (``after_reset``); once ``valid`` is high without ``ready``,
    ``valid`` stays high and the payload unchanged in the next cycle. Covers a stalled beat."""
    was = {}
    for key, value in (("valid", port.valid), ("ready", port.ready), ("payload", port.payload.as_value())):
        was[key] = Signal.like(value, name=f"{name}_was_{key}", reset_less=True)
        m.d.sync += was[key].eq(value)
    with m.If(after_reset):
        m.d.comb += check(~port.valid)
    with m.Elif(was["valid"] & ~was["ready"]):
        m.d.comb += check(port.valid & (port.payload.as_value() == was["payload"]))
    m.d.comb += Cover(port.valid & ~port.ready & ~after_reset)


class MultiplierEquivalence(wiring.Component):
    """The combinational (``stages = 0``) multiplier of ``config`` equals the reference for every operand pair.

    The operands are free inputs; the property holds in every cycle, so a one-step SAT proof covers all pairs.
    ``wrong_reference`` compares against a deliberately different reference (L-Mul's other normalization, or
    L-Mul for the exact multiplier): that proof must fail, which shows the flow would catch a defect.
    """

    def __init__(self, config: LMulConfig | ExactFpMulConfig, wrong_reference: bool = False) -> None:
        self.config = dataclasses.replace(config, stages=0)
        self.wrong_reference = wrong_reference
        width = 1 + config.exp_bits + config.man_bits
        super().__init__({"a": In(width), "b": In(width)})

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        lmul = isinstance(cfg, LMulConfig)
        dut = m.submodules.dut = (LMul if lmul else ExactFpMul)(cfg)
        m.d.comb += [dut.operands.payload.a.eq(self.a), dut.operands.payload.b.eq(self.b),
                     dut.operands.valid.eq(1), dut.result.ready.eq(1)]
        f = reference.Format(cfg.exp_bits, cfg.man_bits, cfg.finite_only)
        if self.wrong_reference:
            other = {"carry": "shift", "shift": "carry"}
            expected = reference.lmul(self.a, self.b, f, other[cfg.norm] if lmul else "carry", cfg.overflow)
        elif lmul:
            expected = reference.lmul(self.a, self.b, f, cfg.norm, cfg.overflow)
        else:
            expected = reference.exact_mul(self.a, self.b, f, cfg.overflow)
        m.d.comb += Assert(dut.result.payload.product == expected)
        return m


class AdderEquivalence(wiring.Component):
    """The float adder of the dot units (:func:`rtl.common.float.add`) equals :func:`reference.fp_add` for every
    operand pair (one combinational problem, as :class:`MultiplierEquivalence`). ``wrong_reference`` compares
    against the reference with the other overflow rule (in a format with infinities): that proof must fail."""

    def __init__(self, spec: FloatSpec, overflow: str = "inf", wrong_reference: bool = False) -> None:
        self.spec, self.overflow, self.wrong_reference = spec, overflow, wrong_reference
        super().__init__({"a": In(spec.width), "b": In(spec.width)})

    def elaborate(self, platform):
        m = Module()
        spec = self.spec
        total = add(m, spec, self.overflow, self.a, self.b, "dut")
        f = reference.Format(spec.exp_bits, spec.man_bits, spec.finite_only)
        overflow = self.overflow
        if self.wrong_reference:
            overflow = {"inf": "saturate", "saturate": "inf"}[overflow]
        m.d.comb += Assert(total == reference.fp_add(self.a, self.b, f, overflow))
        return m


class StreamProperties(wiring.Component):
    """A block with free inputs on every stream, its upstream obeying the stream rules, and the rules asserted on
    its outputs.

    Every sink's ``valid`` and ``payload`` and every source's ``ready`` are free inputs of the proof top, and so
    is ``rst``: reset may come in any cycle. Assumed of each upstream (a stream source that follows the rules):
    nothing valid in the cycle after a reset; once ``valid`` is high without ``ready``, ``valid`` stays high and
    the payload unchanged in the next cycle. Asserted of each of the block's sources: the same two rules.

    ``completes`` (optional) names, for the block's one sink whose beats produce outputs, which accepted beats
    produce one output beat each (every beat of a multiplier, a ``last`` beat of a dot unit or array); a third
    item ``(other sink, flag)`` restricts them to the beats taken after an accepted beat of the other sink that
    had the flag (a weight-streaming LUT core's weight tiles after a ``last`` activation beat). The proof
    then counts the beats owed, ``owed``: accepted completing beats minus output beats. Asserted: no output beat
    without a beat owed (nothing duplicated), ``owed`` never above ``capacity`` and, where the block has a
    ``busy`` port, ``busy`` high whenever a beat is owed (nothing held unannounced). Where the block counts
    the results it holds (``held``, not a port), ``owed`` must equal it: that makes the accounting inductive.
    With ``always_ready`` the source's ``ready`` is tied high and ``latency`` given (the liveness check), the
    free input ``watch`` picks one completing beat; its output must come out ``latency`` cycles after it was
    accepted at the latest.
    Covers: each stream stalled, each output handshake, the ``error`` flag, a ``tile_end`` beat accepted.
    ``inputs`` adds free inputs for subclasses, which add properties in :meth:`check_outputs`.
    """

    def __init__(self, dut: wiring.Component, completes: tuple[str, str | None] | None = None,
                 capacity: int = 0, always_ready: bool = False, latency: int | None = None,
                 inputs: dict[str, In] | None = None) -> None:
        self.dut = dut
        self.completes, self.capacity, self.latency = completes, capacity, latency
        self.always_ready = always_ready
        ports = stream_ports(self.dut)
        self.sinks = [name for name, member in ports if member.flow == In]
        self.sources = [name for name, member in ports if member.flow != In]
        members = {}
        for name in self.sinks:
            stream_sig = self.dut.signature.members[name].signature
            members[f"{name}_valid"] = In(1)
            members[f"{name}_payload"] = In(stream_sig.members["payload"].shape)
        for name in self.sources:
            if not always_ready:
                members[f"{name}_ready"] = In(1)
        if latency is not None:
            members["watch"] = In(1)
        super().__init__({**members, **(inputs or {})})

    def elaborate(self, platform):
        m = Module()
        dut = m.submodules.dut = self.dut
        after_reset = Signal(init=1, reset_less=True)
        m.d.sync += after_reset.eq(ResetSignal())

        for name in self.sinks:
            port = getattr(dut, name)
            m.d.comb += [port.valid.eq(getattr(self, f"{name}_valid")),
                         port.payload.eq(getattr(self, f"{name}_payload"))]
            stream_rules(m, port, name, Assume, after_reset)
            if hasattr(port.payload, "tile_end"):  # a tile switch
                m.d.comb += Cover(port.valid & port.ready & port.payload.tile_end)
        for name in self.sources:
            port = getattr(dut, name)
            m.d.comb += port.ready.eq(1 if self.always_ready else getattr(self, f"{name}_ready"))
            stream_rules(m, port, name, Assert, after_reset)
            m.d.comb += Cover(port.valid & port.ready)
        if hasattr(dut, "error"):
            m.d.comb += Cover(dut.error)

        self.after_reset = after_reset
        if self.completes is not None:
            sink_name, flag, *after = self.completes
            sink = getattr(dut, sink_name)
            (source_name,) = self.sources
            source = getattr(dut, source_name)
            done = sink.valid & sink.ready & (getattr(sink.payload, flag) if flag else 1)
            for other_name, other_flag in after:
                other = getattr(dut, other_name)
                flagged = Signal(name=f"{other_name}_{other_flag}_seen")  # the flag of the latest beat taken
                with m.If(other.valid & other.ready):
                    m.d.sync += flagged.eq(getattr(other.payload, other_flag))
                done = done & flagged
            emitted = source.valid & source.ready
            owed = Signal(range(self.capacity + 2))
            m.d.sync += owed.eq(owed + done - emitted)
            m.d.comb += Assert(~emitted | done | (owed != 0))
            m.d.comb += Assert(owed <= self.capacity)
            if hasattr(dut, "held"):  # the block's own count of results held: the invariant for induction
                dut.count_held = True  # the hook is driven in proof tops only
                m.d.comb += Assert(owed == dut.held)
            if hasattr(dut, "busy"):
                m.d.comb += Assert(dut.busy | (owed == 0))
            if self.latency is not None:
                # One completing beat, chosen by the free input `watch`, is followed: the outputs owed before
                # it (`ahead`) and its age. Its output must come out at `latency` cycles of age at the latest.
                watching = Signal()
                ahead = Signal(range(self.capacity + 2))
                age = Signal(range(self.latency + 2))
                with m.If(watching):
                    m.d.comb += Assert((age < self.latency) | (emitted & (ahead == 0)))
                    m.d.sync += age.eq(age + 1)
                    with m.If(emitted):
                        with m.If(ahead == 0):
                            m.d.sync += watching.eq(0)
                        with m.Else():
                            m.d.sync += ahead.eq(ahead - 1)
                with m.Elif(done & self.watch & ~(emitted & (owed == 0))):
                    m.d.sync += [watching.eq(1), ahead.eq(owed - emitted), age.eq(1)]
            self.check_outputs(m, done, emitted)
        return m

    def check_outputs(self, m: Module, done, emitted) -> None:
        """Further properties of the outputs, given the completing input beats and the output beats."""


class GemmArithmetic(StreamProperties):
    """The MAC array's or LUT core's output beats equal the integer sums of the accepted activation beats
    (bounded proof).

    The weights are a free constant tile (``tile``: ``K x N`` weight codes, held for the whole run): every
    weight beat carries its part of it in order (the MAC array: a row, weight-stationary, or the whole tile,
    weight-streaming; the LUT core: a group of ``g`` rows), so that whichever tile is active holds those
    weights. Activations, ``first``, ``last``, ``tile_end``, stalls and reset are free. The proof keeps its own
    accumulator per token of a block (a beat's position in its block since the last ``tile_end``, wrapping to 0
    past ``max_tokens`` as the blocks do), with each code's weight written from the conventions: ternary ``01``
    is +1, ``11`` is -1, ``00`` and the invalid ``10`` are 0; int8 and LUT int codes are two's complement, or
    ``q - z`` with a zero point; binary ``0`` is -1 and ``1`` is +1. Every ``last`` beat's sum goes into a
    queue; every output beat must equal the queue's head, lane by lane, modulo ``2^acc_width`` (exact while no
    sum overflows it). After a reset each token starts with a ``first`` beat (assumed: the accumulators are not
    reset, so a sum without a start is undefined). LUT core: exact tables (no ``table_bits``) and bit-plane
    packing only.
    """

    def __init__(self, dut, capacity: int) -> None:
        cfg = dut.config
        lut = hasattr(cfg, "ternary_packing")
        if lut and (cfg.ternary_packing != "planes" or cfg.table_bits is not None):
            raise ValueError("the LUT core's arithmetic proof takes bit-plane packing and exact tables")
        self.rows, self.cols = (cfg.k, cfg.n) if lut else (cfg.rows, cfg.cols)
        code = cfg.code_shape if lut else cfg.weight_shape
        # weight rows a beat carries
        self.group = cfg.g if lut else 1 if cfg.dataflow == "weight_stationary" else cfg.rows
        tile_shape = data.ArrayLayout(data.ArrayLayout(code, self.cols), self.rows)
        super().__init__(dut, ("acts", "last"), capacity, inputs={"tile": In(tile_shape)})

    def product(self, code, act):
        """The code's weight (conventions) times ``act``; signs as selections, so the solver multiplies only
        for int weights."""
        cfg = self.dut.config
        if cfg.weight_kind == "ternary":
            return Mux(code == 0b01, act, Mux(code == 0b11, -act, 0))
        if cfg.weight_kind == "binary" or getattr(cfg, "weight_bits", None) == 1:
            return Mux(code[0], act, -act)
        zero_point = getattr(cfg, "zero_point", None)
        return (code.as_signed() if zero_point is None else code.as_unsigned() - zero_point) * act

    def check_outputs(self, m: Module, done, emitted) -> None:
        from amaranth.lib.fifo import SyncFIFO

        dut, cfg = self.dut, self.dut.config
        rows, cols, acc, group = self.rows, self.cols, cfg.acc_width, self.group
        was_tile = Signal.like(self.tile, reset_less=True)
        m.d.sync += was_tile.eq(self.tile)
        with m.If(~self.after_reset):
            m.d.comb += Assume(self.tile.as_value() == was_tile.as_value())

        weights, acts = dut.weights, dut.acts
        beats = rows // group
        part = Signal(range(beats))
        if beats > 1:
            with m.If(weights.valid & weights.ready):
                m.d.sync += part.eq(Mux(part == beats - 1, 0, part + 1))
        for j in range(beats):
            with m.If(weights.valid & (part == j)):
                rows_j = Cat(*(self.tile[j * group + t].as_value() for t in range(group)))
                m.d.comb += Assume(weights.payload.as_value() == rows_j)

        fire = acts.valid & acts.ready
        tokens = cfg.max_tokens if cfg.dataflow == "weight_stationary" else 1
        token = Signal(range(tokens))
        if tokens > 1:
            with m.If(fire):
                m.d.sync += token.eq(Mux(acts.payload.tile_end | (token == tokens - 1), 0, token + 1))
        sums = [[Signal(signed(acc), name=f"sum_{t}_{c}") for c in range(cols)] for t in range(tokens)]
        # A token's first beat after a reset starts its sum (the accumulators are not reset).
        started = Signal(tokens)
        with m.If(fire):
            m.d.sync += started.bit_select(token, 1).eq(1)
            m.d.comb += Assume(started.bit_select(token, 1) | acts.payload.first)
        queue = m.submodules.expected = SyncFIFO(width=acc * cols, depth=self.capacity + 1)
        act = acts.payload.data
        beat = [sum(self.product(self.tile[r][c], act[r]) for r in range(rows)) for c in range(cols)]
        new = [Signal(signed(acc), name=f"new_{c}") for c in range(cols)]
        for t in range(tokens):
            with m.If(token == t):
                m.d.comb += [new[c].eq(Mux(acts.payload.first, 0, sums[t][c]) + beat[c]) for c in range(cols)]
                with m.If(fire):
                    m.d.sync += [sums[t][c].eq(new[c]) for c in range(cols)]
        m.d.comb += [queue.w_en.eq(done), queue.w_data.eq(Cat(*new)), queue.r_en.eq(emitted)]
        with m.If(emitted):
            m.d.comb += Assert(queue.r_rdy & (dut.out.payload.as_value() == queue.r_data))


class LinkStreams(wiring.Component):
    """The host link drives its block's input streams by the stream rules (asserted on every one of them), whatever
    arrives on ``rx`` (a free input: every byte sequence, with any timing, framing errors included) and in
    whatever cycle reset comes. A RESET request resets the block and the link's input buffers together, so it
    counts as a reset of those streams. The block is the real one; its own outputs are proven by its own
    proofs."""

    def __init__(self, block: wiring.Component, config) -> None:
        from rtl.board.link import LinkedBlock

        self.link = LinkedBlock(block, config)
        super().__init__({"rx": In(1)})

    def elaborate(self, platform):
        m = Module()
        link = m.submodules.link = self.link
        m.d.comb += link.rx.eq(self.rx)
        after_reset = Signal(init=1, reset_less=True)
        m.d.sync += after_reset.eq(ResetSignal() | link.soft_reset)
        for name, _ in link.inputs:
            stream_rules(m, getattr(link.block, name), name, Assert, after_reset)
        return m
