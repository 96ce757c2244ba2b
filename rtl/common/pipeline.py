"""Valid/ready pipelines: register stages that advance together (one global stall), or that never stall and
hand their results to an output buffer with credits at the input."""

from __future__ import annotations

import contextlib

from amaranth.hdl import Assert, Cat, ClockSignal, Const, Module, ResetSignal, Signal, Value, ValueCastable

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


BACKPRESSURE = ("stall", "credit")


class OutputStage:
    """The last stage of a block's pipeline and how backpressure reaches its input: ``stall`` (an output
    register; the whole pipeline holds while it is full and not taken: :attr:`advance` is the stage enable and
    the input's permission, combinational from ``source.ready``) or ``credit`` (:class:`CreditedOutput`'s queue;
    :attr:`advance` is 1).

    The block hands over a result with :meth:`write`, gates its input with :attr:`accept`, and calls
    :meth:`count` with the completing beats in flight and the one taken this cycle.
    :attr:`held` is the number of results the block owes (with ``stall``, driven only in proof tops)."""

    def __init__(self, m: Module, source, mode: str, depth: int, name: str = "out_buffer") -> None:
        self.m, self.mode = m, mode
        shape = source.payload.shape()
        self.held = Signal(range(depth + 2), name=f"{name}_held")
        if mode == "stall":
            self._valid = Signal(name="out_valid")
            self._data = Signal(shape, name="out_data", reset_less=True)
            self.advance = Signal(name="advance")  # the whole pipeline moves this cycle
            self.accept = self.advance
            m.d.comb += [self.advance.eq(~self._valid | source.ready), source.valid.eq(self._valid),
                         source.payload.eq(self._data)]
            self.busy = self._valid
        else:
            self.advance = Const(1)
            self._queue = CreditedOutput(m, source, depth, name)
            self.accept = self._queue.credit
            self.busy = self._queue.busy

    def write(self, when: tuple[Value, ...], value: Value) -> None:
        """Hand over ``value`` as a result in a cycle where every condition of ``when`` holds (call once). The
        stall register loads under the conditions nested in turn, the shape the energy model's cross-check
        with OpenSTA was validated on (a single AND of them moved the two apart by about 4 %)."""
        if self.mode == "stall":
            with self.m.If(self.advance):
                self.m.d.sync += self._valid.eq(Cat(*when).all())
                with contextlib.ExitStack() as nested:
                    for cond in when:
                        nested.enter_context(self.m.If(cond))
                    self.m.d.sync += self._data.eq(value)
        else:
            self.m.d.comb += [self._queue.w_en.eq(Cat(*when).all()), self._queue.w_data.eq(value)]

    def count(self, in_flight: Value, taken: Value, prove: bool = False) -> None:
        """``in_flight``: the completing beats in the stages before this one; ``taken``: a completing beat is
        taken this cycle. With ``prove`` the credit queue asserts its count's invariant (proof tops only)."""
        if self.mode == "credit":
            self._queue.count(in_flight, taken, prove)
            self.m.d.comb += self.held.eq(self._queue.held)
        elif prove:  # the count is a proof hook only: logic that drives nothing stays out of the netlists
            self.m.d.comb += self.held.eq(self.busy + in_flight)


class CreditedOutput:
    """An output buffer for a pipeline that never stalls: results enter a queue of ``depth`` entries, ``source``
    reads it, and the pipeline's input takes a beat only while a credit is free.

    :attr:`held` counts the results the block owes (:meth:`count`): incremented when the block takes a beat
    that will complete one, decremented when ``source`` hands one out. :attr:`credit` is ``held < depth``, so that
    every result the pipeline can produce has a place without a stall signal reaching back into the pipeline;
    it is one comparison of a register, and ``source.ready`` reaches the input a cycle later. With ``depth =
    latency + 1`` (the pipeline's stages plus the entry the consumer reads) the input takes a beat every cycle
    while ``source`` is ready, even when every beat completes one. The block writes a result by driving
    :attr:`w_en` and :attr:`w_data`; the credits reserve its entry. A result written in one cycle is valid on
    ``source`` in the next, as a result register would be.

    The buffer is a queue that moves up: the consumer always reads entry 0 (no multiplexer on the output
    path), a pop shifts every entry one place and a write goes to the first free entry; a count says how many
    are valid. No write ever lands on entry 0 while it is offered, in any state, which is what the stream
    proofs' induction needs (a FIFO with separate pointers and level has unreachable states where it does).
    A write into a full queue is dropped.
    """

    def __init__(self, m: Module, source, depth: int, name: str = "out_buffer") -> None:
        self.m = m
        shape = source.payload.shape()
        entries = [Signal(shape, name=f"{name}_{i}", reset_less=True) for i in range(depth)]
        count = Signal(range(depth + 1), name=f"{name}_count")
        self.w_en = Signal(name=f"{name}_w_en")
        self.w_data = Signal(shape, name=f"{name}_w_data")
        self.held = Signal(range(depth + 1), name=f"{name}_held")
        self.credit = Signal(name=f"{name}_credit")
        self.busy = count != 0

        pop = Signal(name=f"{name}_pop")
        push = Signal(name=f"{name}_push")
        m.d.comb += [
            source.valid.eq(count != 0),
            source.payload.eq(entries[0]),
            pop.eq(source.valid & source.ready),
            push.eq(self.w_en & (count < depth)),
            self.credit.eq(self.held < depth),
        ]
        for i in range(depth):
            with m.If(pop):  # entry i takes the next one's result, or the write that lands behind the last
                with m.If(push & (count == i + 1)):
                    m.d.sync += entries[i].eq(self.w_data)
                if i + 1 < depth:
                    with m.Else():
                        m.d.sync += entries[i].eq(entries[i + 1])
            with m.Elif(push & (count == i)):
                m.d.sync += entries[i].eq(self.w_data)
        m.d.sync += count.eq(count + push - pop)
        self._count, self._pop = count, pop

    def count(self, in_flight: Value, taken: Value, prove: bool = False) -> None:
        """Counts the results owed: ``taken`` (a beat that will complete one is taken this cycle) adds one.
        ``in_flight`` (the completing beats in the pipeline) builds no logic: with ``prove`` (proof tops only)
        the queue asserts that ``held`` equals it plus the queued results, the fact k-induction needs."""
        self.m.d.sync += self.held.eq(self.held + taken - self._pop)
        if prove:
            self.m.d.comb += Assert(self.held == self._count + in_flight)


def cut_points(stages: int, available: int = 3) -> list[int]:
    """Which of ``available`` cut points (0 = earliest) carry a register for a ``stages``-deep pipeline: one
    stage goes in the middle, two at both ends, three everywhere."""
    if not 0 <= stages <= available:
        raise ValueError(f"stages must be in 0..{available}, got {stages}")
    return {0: [], 1: [available // 2], 2: [0, available - 1]}.get(stages, list(range(available)))


def delay(m: Module, advance: Value, value: Value | ValueCastable, cycles: int, name: str,
          reset_less: bool = True) -> list[Signal]:
    """``value`` through ``cycles`` registers loaded when ``advance`` is high (one global stall): every register,
    the last one the delayed value (``[value]`` when ``cycles`` is 0). Control bits pass ``reset_less=False``."""
    chain = [value]
    for i in range(cycles):
        reg = Signal.like(chain[-1], name=f"{name}_d{i}", reset_less=reset_less)
        with m.If(advance):
            m.d.sync += reg.eq(chain[-1])
        chain.append(reg)
    return chain[1:] if cycles else chain


def follow(m: Module, advance: Value, valid: Value, flags: dict[str, Value], cycles: int, name: str
           ) -> tuple[Value, dict[str, Value], list[tuple[Signal, dict[str, Signal]]]]:
    """A beat's ``valid`` and its ``flags`` (control bits, reset) through ``cycles`` registers loaded when
    ``advance`` is high: the delayed valid and flags, and every register's (valid, flags), for a count of the beats
    in flight (the inputs themselves and no registers when ``cycles`` is 0)."""
    if not cycles:
        return valid, dict(flags), []
    valids = delay(m, advance, valid, cycles, f"{name}_valid", reset_less=False)
    chains = {key: delay(m, advance, value, cycles, f"{name}_{key}", reset_less=False) for key, value in flags.items()}
    regs = [(v, {key: chain[i] for key, chain in chains.items()}) for i, v in enumerate(valids)]
    return regs[-1][0], regs[-1][1], regs


def staged_trees(m: Module, columns: list[list], stages: int, advance: Value, valid: Value,
                 flags: dict[str, Value], combine=None, name: str = "tree", latency: int = 0
                 ) -> tuple[list, Value, dict[str, Value], list[tuple[Signal, dict[str, Signal]]]]:
    """Balanced pairwise reduction trees, one per column (:func:`rtl.common.arith.tree_levels`), cut by
    ``stages`` register levels spread evenly over the tree (:func:`rtl.common.arith.stage_levels`). The
    registers load when ``advance`` is high (one global stall); ``valid`` and ``flags`` travel with the partial
    results. ``combine`` may hold ``latency`` registers of its own (loaded with ``advance``): an operand passed up
    unpaired, and the valid and flags, are delayed to match. Returns the columns' results (the last part
    combinational, for the caller's register), and the valid and flags at that point, and every stage's (valid,
    flags) registers."""
    parts = stage_levels(tree_depth(len(columns[0])), stages)
    done = 0
    stage_regs = []

    def pass_up(value, pass_name):
        return delay(m, advance, value, latency, f"{name}_{pass_name}")[-1]

    def follow_levels(levels, valid, flags, part):
        """The valid and flags delayed by ``levels`` levels of ``combine``."""
        valid, flags, regs = follow(m, advance, valid, flags, levels * latency, f"{name}_p{part}")
        stage_regs.extend(regs)
        return valid, flags

    for s, levels in enumerate(parts[:-1]):
        partial = [tree_levels(column, levels, combine, done, pass_up if latency else None) for column in columns]
        valid, flags = follow_levels(levels, valid, flags, s)
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
    results = [tree_levels(column, parts[-1], combine, done, pass_up if latency else None)[0]
               for column in columns]
    valid, flags = follow_levels(parts[-1], valid, flags, len(parts) - 1)
    return results, valid, flags, stage_regs
