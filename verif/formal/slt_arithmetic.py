"""The SLT engine's output beats equal the integer sums of the weights and activations it was given (bounded
proof on a tiny configuration, :data:`CONFIG`, :data:`DEPTH` cycles from reset)."""

from __future__ import annotations

from amaranth.hdl import Assert, Assume, Cat, Const, Cover, Elaboratable, Module, Mux, Signal, signed

from golden.slt import BUFFER, IDLE, LUT

from .harness import StreamProperties

#: The configuration of the proof (preset, overrides): two rows of one lane, ``g = 2``, a tile of ``k = 4``
#: activations (two S-LUTs, so a tile pass has one or two beats and the item's ``group`` field is live),
#: ternary weights (LUT items and one-weight Buffer items), 3-bit activations, no clustering; 7-bit sums.
#: (``g = 3``, ``k = 6`` is too slow for z3: over 5 minutes on the step of the first two-tile block.)
CONFIG = ("slt-small", {"k": 4, "g": 2, "rows": 2, "act_bits": 3, "max_k": 12, "counter_bits": 8})
#: Cycles from reset the bounded proof covers: the first output handshake can come in step 4 (a block of one
#: tile and one beat), a block of two tiles or of a two-beat pass, and a second block, in step 5.
DEPTH = 6
#: Outputs owed at most (``last`` tiles accepted, not yet emitted: the tile, the accumulate stage and the output
#: register); the ``capacity`` to build :class:`SltArithmetic` with.
CAPACITY = 3
#: Beats the proof's queues of accepted beats hold (weight beats ahead of their activation tile and the
#: reverse); asserted never to overflow. The queue of expected sums holds ``capacity + 1``.
QUEUE_DEPTH = 2


class Queue(Elaboratable):
    """A first-in first-out queue in registers (the interface of :class:`amaranth.lib.fifo.SyncFIFO`: an entry
    is readable the cycle after its write; no write while full), kept out of memories for the solver."""

    def __init__(self, width: int, depth: int) -> None:
        self.width, self.depth = width, depth
        self.w_en, self.w_rdy, self.w_data = Signal(), Signal(), Signal(width)
        self.r_en, self.r_rdy, self.r_data = Signal(), Signal(), Signal(width)

    def elaborate(self, platform):
        m = Module()
        entries = [Signal(self.width, name=f"entry_{i}") for i in range(self.depth)]
        level = Signal(range(self.depth + 1))
        pop, push = self.r_en & self.r_rdy, self.w_en & self.w_rdy
        m.d.comb += [self.w_rdy.eq(level != self.depth), self.r_rdy.eq(level != 0), self.r_data.eq(entries[0])]
        with m.If(pop):
            m.d.sync += [entries[i].eq(entries[i + 1]) for i in range(self.depth - 1)]
        for i in range(self.depth):
            with m.If(push & (level - pop == i)):
                m.d.sync += entries[i].eq(self.w_data)
        m.d.sync += level.eq(level + push - pop)
        return m


class SltArithmetic(StreamProperties):
    """Every output beat of the SLT engine equals, row by row, ``sum_k w[row, k] * x[k]`` over the tiles of its
    block, modulo ``2^acc_width`` (bounded proof: every run of :data:`DEPTH` cycles from reset).

    Free: the weight and activation payloads (activations of every value, ``first``/``last`` in any order),
    ``valid`` on both inputs, ``ready`` on ``out``, and ``rst`` in any cycle; the upstream obeys the stream
    rules (:class:`~verif.formal.harness.StreamProperties`, which also asserts them of ``out``).

    Assumed of the weight stream (well-formed, as ``golden.slt.schedule`` makes it; malformed streams are the
    ``error`` flag's business, checked elsewhere): per row slot and lane an item of mode idle (0: fields other
    than the mode are free and count nothing), LUT (1: a full mask) or Buffer (2: a mask neither empty nor
    full; binary weights: no Buffer items), signs only on non-zero weights, a bank index within its lane's
    bank; per tile pass a beat ``count`` of 1 to the bank's groups, the same on each beat of the pass, and
    ``end`` exactly on its ``count``-th beat. Assumed of the activation stream: the first tile after a reset
    has ``first`` (the engine's accumulators are not reset, so a sum without a start is undefined).

    The expected sums are the spec's, from the decoded stream fields: the ``n``-th activation beat pairs with
    the ``n``-th tile pass (weight beats up to and including an ``end`` beat); item (row ``r``, lane ``l``,
    bank index ``j``) covers activations ``(j * lanes + l) * g + t`` for ``t < g``, with weight ``0`` where
    ``mask`` bit ``t`` is clear, else ``-1`` where ``sign`` bit ``t`` is set and ``+1`` otherwise (LUT and
    Buffer items alike: the mode changes how the engine reads, not what it adds). A row's sum restarts at the
    first beat of a tile with ``first`` and is queued when a tile with ``last`` ends its pass. Accepted beats
    wait in the proof's own queues (either stream may run ahead of the other), are paired head to head, one
    weight beat a cycle. Asserted: every output beat has a queued sum and equals it, row by row; the proof's
    queues never overflow (the engine buffers at most :data:`QUEUE_DEPTH` beats of either stream ahead of the
    other); a well-formed stream never sets ``error``; and, from the base class (``completes = acts, last``),
    no output without a ``last`` tile owed, never more than ``capacity`` owed, ``busy`` while any is.

    Not covered: clustering (``n_centers`` > 0: roles, centers, magnitude-2 deltas) and the counters.
    """

    def __init__(self, dut, capacity: int) -> None:
        cfg = dut.config
        if cfg.n_centers:
            raise ValueError("the SLT arithmetic proof takes no clustering (n_centers = 0)")
        super().__init__(dut, ("acts", "last"), capacity)

    # --- the stream, decoded from the spec ------------------------------------------------------------------

    def _mask(self, beat, r: int, lane: int):
        cfg = self.dut.config
        return beat.mask[r][lane] if cfg.has_mask else Const((1 << cfg.g) - 1, cfg.g)

    def _assume_well_formed(self, m: Module) -> None:
        """The legal item encodings and pass lengths on every offered weight beat."""
        cfg = self.dut.config
        weights = self.dut.weights
        beat = weights.payload
        full = (1 << cfg.g) - 1
        index = Signal(range(cfg.bank_groups + 1))  # the beat's position in its tile pass
        count = Signal.like(beat.count)  # the pass's beat count, from its first beat
        with m.If(weights.valid & weights.ready):
            m.d.sync += index.eq(Mux(beat.end, 0, index + 1))
            with m.If(index == 0):
                m.d.sync += count.eq(beat.count)
        with m.If(weights.valid):
            m.d.comb += [
                Assume((beat.count >= 1) & (beat.count <= cfg.bank_groups)),
                Assume((index == 0) | (beat.count == count)),
                Assume(beat.end == (index == beat.count - 1)),
            ]
            for r in range(cfg.rows):
                for lane in range(cfg.lanes):
                    mode, mask, sign = beat.mode[r][lane], self._mask(beat, r, lane), beat.sign[r][lane]
                    legal = (mode == IDLE) | (mode == LUT)
                    m.d.comb += Assume(legal | (mode == BUFFER) if cfg.has_mask else legal)
                    with m.If(mode != IDLE):
                        m.d.comb += [Assume((sign & ~mask) == 0),
                                     Assume(beat.group[r][lane] < cfg.bank_size(lane))]
                    with m.If(mode == LUT):
                        m.d.comb += Assume(mask == full)
                    with m.If(mode == BUFFER):
                        m.d.comb += Assume((mask != 0) & (mask != full))

    def beat_sums(self, beat, x) -> list:
        """Per row the sum of one weight beat's items times the activation tile ``x``."""
        cfg = self.dut.config
        sums = []
        for r in range(cfg.rows):
            terms = []
            for lane in range(cfg.lanes):
                mode, group = beat.mode[r][lane], beat.group[r][lane]
                mask, sign = self._mask(beat, r, lane), beat.sign[r][lane]
                for t in range(cfg.g):
                    a = x[lane * cfg.g + t]  # bank index 0
                    for j in range(1, cfg.bank_size(lane)):
                        a = Mux(group == j, x[(j * cfg.lanes + lane) * cfg.g + t], a)
                    terms.append(Mux((mode != IDLE) & mask[t], Mux(sign[t], -a, a), 0))
            sums.append(sum(terms))
        return sums

    # --- the properties -------------------------------------------------------------------------------------

    def check_outputs(self, m: Module, done, emitted) -> None:
        dut, cfg = self.dut, self.dut.config
        weights, acts = dut.weights, dut.acts
        self._assume_well_formed(m)

        # A token's sums start at a `first` tile: the first tile after a reset has it.
        seen = Signal()
        with m.If(acts.valid & acts.ready):
            m.d.sync += seen.eq(1)
            m.d.comb += Assume(seen | acts.payload.first)

        # The accepted beats, in stream order, until the proof pairs them.
        wq = m.submodules.weight_queue = Queue(width=len(weights.payload.as_value()), depth=QUEUE_DEPTH)
        aq = m.submodules.act_queue = Queue(width=len(acts.payload.as_value()), depth=QUEUE_DEPTH)
        m.d.comb += [wq.w_en.eq(weights.valid & weights.ready), wq.w_data.eq(weights.payload.as_value()),
                     aq.w_en.eq(acts.valid & acts.ready), aq.w_data.eq(acts.payload.as_value())]
        m.d.comb += [Assert(~wq.w_en | wq.w_rdy), Assert(~aq.w_en | aq.w_rdy)]
        beat = Signal(cfg.weight_layout)
        tile = Signal(cfg.act_layout)
        m.d.comb += [beat.eq(wq.r_data), tile.eq(aq.r_data)]

        # One weight beat a cycle with the activation tile of its pass.
        step = Signal()
        in_pass = Signal()  # a beat of the current pass has been paired
        m.d.comb += [step.eq(wq.r_rdy & aq.r_rdy), wq.r_en.eq(step), aq.r_en.eq(step & beat.end)]
        with m.If(step):
            m.d.sync += in_pass.eq(~beat.end)
        acc = cfg.acc_width
        sums = [Signal(signed(acc), name=f"sum_{r}") for r in range(cfg.rows)]
        new = [Signal(signed(acc), name=f"new_{r}") for r in range(cfg.rows)]
        start = tile.first & ~in_pass
        m.d.comb += [new[r].eq(Mux(start, 0, sums[r]) + s) for r, s in enumerate(self.beat_sums(beat, tile.data))]
        with m.If(step):
            m.d.sync += [sums[r].eq(new[r]) for r in range(cfg.rows)]

        # What the block queued with its sum has seen (for the covers only): two tiles, LUT and Buffer items.
        tiles = Signal(range(3))
        modes = Signal(2)
        slots = [beat.mode[r][lane] for r in range(cfg.rows) for lane in range(cfg.lanes)]
        tiles_now = Signal(range(3))
        modes_now = Signal(2)
        m.d.comb += [tiles_now.eq(Mux(tile.first, 1, Mux(tiles == 2, 2, tiles + 1))),
                     modes_now.eq(Mux(start, 0, modes) | Cat(Cat(*[s == LUT for s in slots]).any(),
                                                             Cat(*[s == BUFFER for s in slots]).any()))]
        with m.If(step):
            m.d.sync += modes.eq(modes_now)
            with m.If(beat.end):
                m.d.sync += tiles.eq(tiles_now)

        expected = m.submodules.expected = Queue(width=acc * cfg.rows + 2, depth=self.capacity + 1)
        m.d.comb += [expected.w_en.eq(step & beat.end & tile.last),
                     expected.w_data.eq(Cat(*new, tiles_now == 2, modes_now == 0b11)),
                     expected.r_en.eq(emitted)]
        m.d.comb += Assert(~expected.w_en | expected.w_rdy)
        with m.If(emitted):
            m.d.comb += Assert(expected.r_rdy & (dut.out.payload.as_value() == expected.r_data[: acc * cfg.rows]))
        m.d.comb += Assert(~dut.error)
        m.d.comb += [Cover(emitted & expected.r_rdy),
                     Cover(emitted & expected.r_data[acc * cfg.rows]),
                     Cover(emitted & expected.r_data[acc * cfg.rows + 1])]
