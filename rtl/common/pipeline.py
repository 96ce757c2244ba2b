"""Valid/ready pipelines: register stages that advance together (one global stall), or that never stall and
hand their results to an output buffer with credits at the input."""

from __future__ import annotations

from amaranth.hdl import Array, Assert, ClockSignal, Const, Module, Mux, ResetSignal, Signal, Value, ValueCastable

from .arith import stage_levels, tree_depth, tree_levels


class StallPipeline:
    """``depth`` register stages between a sink stream and a source stream, stalled as one.

    A beat moves one stage per cycle while the last stage is empty or the consumer takes it; otherwise every
    stage holds (``advance`` is low) and ``sink.ready`` is low in the same cycle. With ``depth = 0`` the path is
    combinational: ``source.valid = sink.valid`` and ``sink.ready = source.ready`` (``clk`` and ``rst`` stay
    ports, unused). Latency: ``depth`` cycles;
    throughput: one beat per cycle. Blocks put their data registers at their own cut points with
    :meth:`register`, so that the same datapath code serves every depth.
    """

    def __init__(self, m: Module, sink, source, depth: int) -> None:
        self.m, self.depth = m, depth
        self.advance = Signal(name="advance")
        self.fire = Signal(name="sink_fire")
        m.d.comb += self.fire.eq(sink.valid & sink.ready)
        if depth == 0:
            m.d.comb += [source.valid.eq(sink.valid), sink.ready.eq(source.ready), self.advance.eq(1)]
            # Every block has the same clk/rst ports (conventions.md), even where nothing is clocked.
            m.d.comb += Signal(name="unused_clock").eq(ClockSignal("sync") ^ ResetSignal("sync"))
            return
        valids = [Signal(name=f"stage{i}_valid") for i in range(depth)]
        m.d.comb += [self.advance.eq(~valids[-1] | source.ready), sink.ready.eq(self.advance),
                     source.valid.eq(valids[-1])]
        with m.If(self.advance):
            m.d.sync += valids[0].eq(sink.valid)
            m.d.sync += [valids[i].eq(valids[i - 1]) for i in range(1, depth)]
        self.valids = valids

    def register(self, value: Value | ValueCastable, name: str) -> Signal:
        """A data register loaded when the pipeline advances (not reset: ``valid`` says when it matters)."""
        reg = Signal.like(value, name=name, reset_less=True)
        with self.m.If(self.advance):
            self.m.d.sync += reg.eq(value)
        return reg


class CreditedOutput:
    """An output buffer for a pipeline that never stalls: results enter a ring of ``depth`` entries, ``source``
    reads it, and the pipeline's input takes a beat only while a credit is free.

    ``in_flight`` counts the beats in the pipeline that will write a result (their valid and completing flags,
    from registers); :attr:`held` is that count plus the entries in the ring. :attr:`credit` says ``held <
    depth``, so that every result the pipeline can produce has a place without a stall signal reaching back
    into the pipeline. It is a register, loaded with the next cycle's comparison (``taken``: the block takes a
    completing beat this cycle), so that the input handshake is one gate from registers and ``source.ready``
    reaches it a cycle later. With ``depth = latency + 1`` (the pipeline's stages plus the entry the consumer
    reads) the input takes a beat every cycle while ``source`` is ready, even when every beat completes one.
    The block writes a result by driving :attr:`w_en` and :attr:`w_data`; the credits reserve its entry. A
    result written in one cycle is valid on ``source`` in the next, as a result register would be.
    With ``prove`` (proof tops only) it asserts what k-induction needs to know of its state: the register
    equals the comparison.

    The ring keeps a read pointer and a count and derives the write slot from them (no FIFO with separate
    write pointer and level, whose redundant state k-induction proofs would have to rule out); a write into a
    full ring is dropped, so the entry ``source`` offers never changes under it.
    """

    def __init__(self, m: Module, source, depth: int, in_flight: Value, taken: Value, prove: bool = False,
                 name: str = "out_buffer") -> None:
        shape = source.payload.shape()
        entries = [Signal(shape, name=f"{name}_{i}", reset_less=True) for i in range(depth)]
        head = Signal(range(depth), name=f"{name}_head")
        count = Signal(range(depth + 1), name=f"{name}_count")
        self.w_en = Signal(name=f"{name}_w_en")
        self.w_data = Signal(shape, name=f"{name}_w_data")
        self.held = Signal(range(2 * depth + 2), name=f"{name}_held")
        self.credit = Signal(name=f"{name}_credit", init=1)
        self.busy = count != 0

        # Every value of `head` selects something (a case statement without a default fails lint); the values
        # no reachable state has read zero, so that no write can change what they offer.
        width = len(entries[0].as_value())
        padded = [e.as_value() for e in entries] + [Const(0, width)] * ((1 << len(head)) - depth)
        pop = Signal(name=f"{name}_pop")
        push = Signal(name=f"{name}_push")
        tail = Signal(range(2 * depth), name=f"{name}_tail")  # head + count, the write slot before the wrap
        m.d.comb += [
            source.valid.eq(count != 0),
            source.payload.eq(Array(padded)[head]),
            pop.eq(source.valid & source.ready),
            push.eq(self.w_en & (count < depth)),
            tail.eq(head + count),
            self.held.eq(count + in_flight),
        ]
        # `taken` (a handshake) arrives late: it picks between two comparisons made from registers.
        m.d.sync += self.credit.eq(Mux(taken, self.held + 1 - pop < depth, self.held - pop < depth))
        if prove:
            m.d.comb += Assert(self.credit == (self.held < depth))
        for i in range(depth):
            with m.If(push & ((tail == i) | (tail == i + depth))):
                m.d.sync += entries[i].eq(self.w_data)
        with m.If(pop):
            m.d.sync += head.eq(Mux(head == depth - 1, 0, head + 1))
        m.d.sync += count.eq(count + push - pop)


def cut_points(stages: int, available: int = 3) -> list[int]:
    """Which of ``available`` cut points (0 = earliest) carry a register for a ``stages``-deep pipeline: one
    stage goes in the middle, two at both ends, three everywhere."""
    if not 0 <= stages <= available:
        raise ValueError(f"stages must be in 0..{available}, got {stages}")
    return {0: [], 1: [available // 2], 2: [0, available - 1]}.get(stages, list(range(available)))


def staged_trees(m: Module, columns: list[list], stages: int, advance: Value, valid: Value,
                 flags: dict[str, Value], combine=None, name: str = "tree"
                 ) -> tuple[list, Value, dict[str, Value], list[tuple[Signal, dict[str, Signal]]]]:
    """Balanced pairwise reduction trees, one per column (:func:`rtl.common.arith.tree_levels`), cut by
    ``stages`` register levels spread evenly over the tree (:func:`rtl.common.arith.stage_levels`). The
    registers load when ``advance`` is high (one global stall); ``valid`` and ``flags`` travel with the partial
    results. Returns the columns' results (the last part combinational, for the caller's register), and the
    valid and flags at that point, and every stage's (valid, flags) registers."""
    parts = stage_levels(tree_depth(len(columns[0])), stages)
    done = 0
    stage_regs = []
    for s, levels in enumerate(parts[:-1]):
        partial = [tree_levels(column, levels, combine, done) for column in columns]
        done += levels
        columns = [[Signal.like(v, name=f"{name}{s}_{c}_{i}", reset_less=True) for i, v in enumerate(column)]
                   for c, column in enumerate(partial)]
        new_valid = Signal(name=f"{name}{s}_valid")
        new_flags = {key: Signal.like(value, name=f"{name}{s}_{key}") for key, value in flags.items()}
        with m.If(advance):
            m.d.sync += [new_valid.eq(valid), *(new_flags[k].eq(v) for k, v in flags.items())]
            with m.If(valid):
                m.d.sync += [reg.eq(v) for column, regs in zip(partial, columns, strict=True)
                             for v, reg in zip(column, regs, strict=True)]
        valid, flags = new_valid, new_flags
        stage_regs.append((valid, flags))
    results = [tree_levels(column, parts[-1], combine, done)[0] for column in columns]
    return results, valid, flags, stage_regs
