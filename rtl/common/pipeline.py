"""A valid/ready pipeline whose register stages all advance together (one global stall)."""

from __future__ import annotations

from amaranth.hdl import ClockSignal, Module, ResetSignal, Signal, Value, ValueCastable

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
