"""The SLT engine component (spec: ``slt.md``)."""

from __future__ import annotations

from amaranth.back import verilog
from amaranth.hdl import Cat, ClockSignal, Const, Elaboratable, Instance, Module, Mux, ResetSignal, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..common.arith import adder_tree, popcount
from ..common.slices import flat
from ..common.table import TablePrecompute, select
from .column import SltColumn, output_shapes, read_flags
from .config import ROLE_CENTER, ROLE_INVALID, ROLE_MEMBER, SltConfig


def column_module(cfg: SltConfig) -> str:
    """The Verilog name of the design's column module."""
    return f"{cfg.top_name}_column"


class SlotArray(Elaboratable):
    """The S-LUT reads of one beat pass: one :class:`SltColumn` per row, instantiated from the column module
    that :meth:`SltEngine.extra_verilog` emits once; the read flags of every S-LUT entry ORed over the rows
    (rows that read the same entry in the same cycle share the read: it counts once) and the pass's counts.

    Outputs: ``sums`` (per row, registered in its column), ``more``, ``reads``, ``terms``, ``visited``,
    ``malformed`` (combinational, see :class:`SltColumn`).
    """

    def __init__(self, cfg: SltConfig, tables, raw, beat) -> None:
        self.cfg, self.tables, self.raw, self.beat = cfg, tables, raw, beat
        self.enable = Signal()
        self.pass_index = Signal(range(max(cfg.max_passes, 2)))
        self.sums = [Signal(output_shapes(cfg)["rowsum"], name=f"rowsum_{r}") for r in range(cfg.rows)]
        slots = cfg.rows * cfg.lanes
        self.more = Signal()
        self.reads = Signal(range(read_flags(cfg) + 1))
        self.terms = Signal(range(slots * max(cfg.read_ports, 1) + 1))
        self.visited = Signal(range(slots + 1))
        self.malformed = Signal()

    def elaborate(self, platform):
        m = Module()
        cfg, beat = self.cfg, self.beat
        outputs = {name: [Signal(shape, name=f"{name}_{r}") for r in range(cfg.rows)]
                   for name, shape in output_shapes(cfg).items() if name != "rowsum"}
        for r in range(cfg.rows):
            ports = {"i_clk": ClockSignal(), "i_rst": ResetSignal(), "i_enable": self.enable,
                     "i_pass_index": self.pass_index,
                     "i_tables": self.tables.as_value(), "i_raw": self.raw.as_value(),
                     "i_mode": flat(beat.mode[r]), "i_group": flat(beat.group[r]), "i_sign": flat(beat.sign[r]),
                     "o_rowsum": self.sums[r]}
            if cfg.has_mask:
                ports["i_mask"] = flat(beat.mask[r])
            if cfg.clustered:
                ports["i_mag"], ports["i_role"] = flat(beat.mag[r]), flat(beat.role[r])
            ports.update({f"o_{name}": signals[r] for name, signals in outputs.items()})
            m.submodules[f"column_{r}"] = Instance(column_module(cfg), **ports)
        shared = [Cat(*[outputs["reads"][r][bit] for r in range(cfg.rows)]).any() for bit in range(read_flags(cfg))]
        m.d.comb += [
            self.more.eq(Cat(*outputs["more"]).any()),
            self.reads.eq(popcount(shared)),
            self.terms.eq(adder_tree(outputs["terms"])),
            self.visited.eq(adder_tree(outputs["visited"])),
            self.malformed.eq(Cat(*outputs["malformed"]).any()),
        ]
        return m


class SltEngine(wiring.Component):
    """SLT engine: Slim-Llama's sparsity-aware look-up-table GEMV for binary and ternary weights, ``y = W x``.

    What follows the public description of Slim-Llama (Kim et al., ISSCC 2025, 23.9; see ``slt.md``): S-LUTs of
    ``2^g`` entries (g = 3) that answer a group of weights either from a table of signed activation sums
    (LUT mode) or from the raw activations, ``read_ports`` (2) a cycle, skipping zero weights (Buffer mode);
    the mode chosen per group from its sparsity; zero groups skipped; output reuse through weight clustering
    (``A W_i = A W_center + A (W_i - W_center)``); binary weights as the dense case.

    This project's reconstruction (no RTL is public): an S-LUT holds the ``2^(g-1)`` sign-symmetric table
    entries *and* the ``g`` raw activations (the 4 + 4 split the third-party reading calls mixed mode), so
    the mode is a property of each row's group on the weight stream, not of the cell, and needs no reload.
    The tables are built once per activation tile (:class:`~rtl.common.table.TablePrecompute`, the LUT
    tensor core's builder, submodule ``precompute``) and shared by all rows; a row slot reads the S-LUT its
    item names (:class:`SlotArray`, submodule ``slots``), so that a row steps over its zero groups instead of
    idling on them. Rows that read the same entry in the same cycle share the read (counted once). Center
    outputs are kept in ``n_centers`` registers; a member row adds its center's output when it is emitted,
    so centers must come in an earlier block than their members (the scheduler orders rows so). Cluster
    deltas in -2..2 are coded with a magnitude-2 bit per weight (``mag``) beside mask and sign; a LUT group
    whose weights are all +-2 reads the table doubled.

    Dataflow (GEMV, activation tile stationary): an ``acts`` beat loads a tile of ``k`` activations
    (``first``/``last`` mark the tiles of one vector); the weight beats of one block of ``rows`` output rows
    for that tile follow, each carrying per row slot and lane one item (mode, group within the lane's bank,
    mask, sign, mag), the beat ``count`` of the tile pass and ``end`` on its last beat. A tile pass ends at
    ``end`` or at its ``count``-th beat, whichever comes first; the next tile's activations are accepted in
    the cycle the last beat finishes, so tables are rebuilt without a bubble. After the ``last`` tile the
    block's ``rows`` outputs leave on ``out``. A beat takes one cycle, or ``ceil(nnz / read_ports)`` when a
    Buffer group has more non-zeros than read ports. The golden model ``golden.slt`` (``schedule``, ``run``)
    defines the stream, the results and the counters cycle for cycle.

    Pipeline: weight beat register -> S-LUT reads and row sums (registered) -> accumulate, add the center
    output, emit. Backpressure on ``out`` stalls every stage. Latency :attr:`SltConfig.latency`.

    Decisions where the spec is silent: a malformed item (bad mode, mask/sign or mask/magnitude mismatch, a
    LUT group not full or of mixed magnitudes, an empty Buffer group, a magnitude-2 code outside a member row,
    a group beyond its bank), a bad role or center id, a beat count of 0 or beyond the bank, a count that
    changes within a pass, or an ``end`` flag that disagrees with the count (a truncated or overlong pass) set
    the sticky ``error``; the results of malformed work are undefined, the engine keeps consuming its streams
    and the work after reset is exact.

    Attributes
    ----------
    weights : In(stream.Signature(config.weight_layout))
    acts : In(stream.Signature(config.act_layout))
        ``{data: k x signed(act_bits), first, last}``.
    out : Out(stream.Signature(config.out_layout))
        ``{data: rows x signed(acc_bits)}``, one beat per block and activation vector.
    perf : Out(config.perf_layout)
        Counters since reset (wrapping): ``active_cycles``, ``table_builds``, ``table_reads``, ``additions``,
        ``skipped``, ``reused``, as ``golden.slt.Counters`` defines them.
    busy : Signal(1), out
    error : Signal(1), out
    """

    def __init__(self, config: SltConfig) -> None:
        self.config = config
        super().__init__({
            "weights": In(stream.Signature(config.weight_layout)),
            "acts": In(stream.Signature(config.act_layout)),
            "out": Out(stream.Signature(config.out_layout)),
            "perf": Out(config.perf_layout),
            "busy": Out(1),
            "error": Out(1),
        })

    def extra_verilog(self) -> list[str]:
        """Verilog modules the design instantiates beside its own: the column module, emitted once however
        many rows instantiate it (a flat 512-row design would repeat its logic 512 times in the text)."""
        column = SltColumn(self.config)
        return [verilog.convert(column, name=column_module(self.config), ports=column.ports, emit_src=False)]

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        rows = cfg.rows

        out_valid = Signal()
        advance = Signal()
        m.d.comb += advance.eq(~out_valid | self.out.ready)

        # The activation tile: tables (in `precompute`) and raw activations.
        m.submodules.precompute = pre = TablePrecompute(cfg.k, cfg.g, cfg.act_bits, cfg.entry_bits)
        raw = Signal(data.ArrayLayout(signed(cfg.act_bits), cfg.k), reset_less=True)
        t_valid, t_first, t_last = Signal(), Signal(), Signal()

        # The weight beat register and its position in the tile pass.
        beat = Signal(cfg.weight_layout, reset_less=True)
        w_valid = Signal()
        m.submodules.slots = slots = SlotArray(cfg, pre.tables, raw, beat)
        beat_index = Signal(range(cfg.bank_groups + 1))
        count_held = Signal.like(beat.count)
        pass_index = slots.pass_index
        read = Signal()
        done = Signal()  # the beat's last pass is read in this cycle
        tile_done = Signal()
        count = Mux(beat_index == 0, beat.count, count_held)
        limit = Mux(count == 0, 0, count - 1)
        if cfg.count_can_exceed_bank:
            limit = Mux(count > cfg.bank_groups, cfg.bank_groups - 1, limit)
        last_by_count = beat_index >= limit
        m.d.comb += [
            read.eq(w_valid & t_valid & advance),
            done.eq(read & (~slots.more | slots.malformed)),  # a malformed beat ends its pass: never hangs
            tile_done.eq(done & (beat.end | last_by_count)),
            slots.enable.eq(read),
            self.weights.ready.eq(~w_valid | done),
            self.acts.ready.eq(~t_valid | tile_done),
            pre.acts.eq(self.acts.payload.data),
            pre.load.eq(self.acts.valid & self.acts.ready),
        ]
        with m.If(done):
            m.d.sync += w_valid.eq(0)
        with m.If(self.weights.valid & self.weights.ready):
            m.d.sync += [beat.eq(self.weights.payload), w_valid.eq(1)]
        with m.If(read):
            m.d.sync += pass_index.eq(Mux(done, 0, pass_index + 1))
        with m.If(done):
            m.d.sync += beat_index.eq(Mux(tile_done, 0, beat_index + 1))
            with m.If(beat_index == 0):
                m.d.sync += count_held.eq(beat.count)
        with m.If(tile_done):
            m.d.sync += t_valid.eq(0)
        with m.If(pre.load):  # an activation tile is accepted
            m.d.sync += [t_valid.eq(1), t_first.eq(self.acts.payload.first), t_last.eq(self.acts.payload.last),
                         raw.eq(self.acts.payload.data)]

        # Stage B: accumulate the row sums; on the block's last beat add the center outputs and emit.
        acc_shape = signed(cfg.acc_width)
        b_valid, b_start, b_emit = Signal(), Signal(), Signal()
        b_role = [Signal(2, name=f"role_{r}") for r in range(rows)]
        b_center = [Signal(cfg.center_bits, name=f"center_{r}") for r in range(rows)]
        with m.If(advance):
            m.d.sync += [b_valid.eq(read), b_start.eq(t_first & (beat_index == 0) & (pass_index == 0)),
                         b_emit.eq(tile_done & t_last)]
            if cfg.clustered:
                m.d.sync += [b_role[r].eq(flat(beat.role[r])) for r in range(rows)]
                m.d.sync += [b_center[r].eq(flat(beat.center[r])) for r in range(rows)]
        acc = [Signal(acc_shape, name=f"acc_{r}", reset_less=True) for r in range(rows)]
        total = [Signal(acc_shape, name=f"total_{r}") for r in range(rows)]
        m.d.comb += [total[r].eq(Mux(b_start, 0, acc[r]) + slots.sums[r]) for r in range(rows)]
        emit = Signal()
        m.d.comb += emit.eq(advance & b_valid & b_emit)
        out_data = Signal(cfg.out_layout, reset_less=True)
        members = [b_role[r] == ROLE_MEMBER for r in range(rows)]
        with m.If(advance & b_valid):
            m.d.sync += [acc[r].eq(total[r]) for r in range(rows)]
        if cfg.clustered:
            store = [Signal(acc_shape, name=f"center_out_{c}", reset_less=True) for c in range(cfg.n_centers)]
            outs = []
            for r in range(rows):
                center = select(m, store, b_center[r], Const(0), f"center_read_{r}")
                outs.append(total[r] + Mux(members[r], center, 0))
            for c in range(cfg.n_centers):
                for r in range(rows):  # the last row naming the center wins
                    with m.If(emit & (b_role[r] == ROLE_CENTER) & (b_center[r] == c)):
                        m.d.sync += store[c].eq(total[r])
        else:
            outs = total
        with m.If(advance):
            m.d.sync += out_valid.eq(b_valid & b_emit)
        with m.If(emit):
            m.d.sync += out_data.eq(Cat(v[: cfg.acc_width] for v in outs))

        # Performance counters.
        perf = self.perf
        tile_visited = Signal(range(rows * cfg.groups + 1))
        with m.If(done):
            m.d.sync += tile_visited.eq(Mux(tile_done, 0, tile_visited + slots.visited))
        reused = popcount(members) if cfg.clustered else Const(0)
        m.d.sync += [
            perf.active_cycles.eq(perf.active_cycles + read),
            perf.table_builds.eq(perf.table_builds + pre.load),
            perf.table_reads.eq(perf.table_reads + Mux(read, slots.reads, 0)),
            perf.additions.eq(perf.additions + Mux(read, slots.terms, 0) + Mux(emit, reused, 0)),
            perf.skipped.eq(perf.skipped + Mux(tile_done, rows * cfg.groups - tile_visited - slots.visited, 0)),
            perf.reused.eq(perf.reused + Mux(emit, reused, 0)),
        ]

        # Status.
        open_block = Signal()
        with m.If(tile_done):
            m.d.sync += open_block.eq(~t_last)
        m.d.comb += [
            self.out.valid.eq(out_valid),
            self.out.payload.eq(out_data),
            self.busy.eq(t_valid | w_valid | b_valid | out_valid | open_block),
        ]
        count_range = (beat.count == 0) | ((beat.count > cfg.bank_groups) if cfg.count_can_exceed_bank else 0)
        bad_count = ((beat_index == 0) & count_range) | ((beat_index != 0) & (beat.count != count_held)) | \
            (beat.end != last_by_count)
        bad_rows = Const(0)
        if cfg.clustered:
            bad_rows = Cat(*[(flat(beat.role[r]) == ROLE_INVALID) |
                             ((flat(beat.role[r]) != 0) & (flat(beat.center[r]) >= cfg.n_centers)
                              if (1 << cfg.center_bits) > cfg.n_centers else Const(0))
                             for r in range(rows)]).any()
        with m.If(done & (slots.malformed | bad_count | bad_rows)):
            m.d.sync += self.error.eq(1)
        return m
