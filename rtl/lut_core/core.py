"""The LUT tensor core component (spec: ``lut_tensor_core.md``)."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Elaboratable, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..common.accumulate import TokenAccumulators, token_counter
from ..common.arith import popcount
from ..common.pipeline import OutputStage, staged_trees
from ..common.slices import flat
from ..common.table import TablePrecompute, round_shift, select, symmetric_read
from ..common.tile import TileDoubleBuffer
from .config import LutCoreConfig

_TERNARY_PLUS, _TERNARY_INVALID, _TERNARY_MINUS = 0b01, 0b10, 0b11


class LookupArray(Elaboratable):
    """``n`` columns x ``groups`` cells: each cell reads its group's table with its weight index, per plane;
    per column and plane an adder tree (cut by ``tree_stages`` registers, the token's ``flags`` travelling
    along: ``flags["valid"]`` gates the stage registers); the sums are registered when ``enable`` is high.

    Planes mode: the index of plane ``i`` is bit ``i`` of the group's ``g`` codes (``plane`` selects it when
    bit-serial). Base 3: the index is the code's magnitude, its sign negates the read.
    """

    def __init__(self, cfg: LutCoreConfig, tables, tile, flags: dict[str, Signal]) -> None:
        self.cfg, self.tables, self.tile = cfg, tables, tile
        self.enable = Signal()
        # The token's flags at the lookup, and as they leave the tree stages with its column sums.
        self.flags_in = flags
        self.flags = {key: Signal.like(value, name=f"sums_{key}") for key, value in flags.items()}
        self.stages_busy = Signal()
        # Per tree stage: a token's last plane of a `last` beat is in it (the results the stages hold).
        self.held_flags = [Signal(name=f"stage{s}_held") for s in range(cfg.tree_stages)]
        self.count_held = False  # drive `held_flags` (the core's formal-proof hook)
        self.plane = Signal(range(max(cfg.planes, 2)))
        width = cfg.entry_bits + max(cfg.groups, 1).bit_length() + 1
        # Separate signals, not one wide one: Amaranth's netlist builder slows down quadratically on many
        # partial assignments to one wide signal.
        self.sums = [[Signal(signed(width), name=f"colsum_{p}_{c}", reset_less=True) for c in range(cfg.n)]
                     for p in range(cfg.planes_per_cycle)]

    def _index(self, grp: int, col: int, plane: int):
        """The table index of a cell for a plane; lanes that only pad the last group read index bit 0."""
        cfg, slot = self.cfg, self.tile[grp]
        bits = []
        for t in range(cfg.g):
            if grp * cfg.g + t >= cfg.k:
                bits.append(Const(0, 1))
            elif cfg.bit_serial:
                bits.append(flat(slot[t][col]).bit_select(self.plane, 1))
            else:
                bits.append(flat(slot[t][col])[plane])
        return Cat(*bits)

    def _read(self, m: Module, grp: int, col: int, plane: int):
        cfg = self.cfg
        entries = [flat(self.tables[grp][e]) for e in range(len(self.tables[grp]))]
        if cfg.base3:
            code = flat(self.tile[grp][col])
            mag_bits = cfg.code_shape.width - 1
            mag, negative = code[:mag_bits], code[mag_bits]
            # Codes above the largest magnitude were zeroed on load; the rest of the case reads 0.
            return select(m, entries, mag, negative, f"read_{grp}_{col}"), negative
        return symmetric_read(m, entries, self._index(grp, col, plane), f"read_{grp}_{col}_{plane}")

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        columns = []
        for p in range(cfg.planes_per_cycle):
            for col in range(cfg.n):
                # The reads are built outside the enable condition: `select` drives named signals, which must
                # not depend on the caller's conditions.
                reads = [self._read(m, grp, col, p) for grp in range(cfg.groups)]
                columns.append([v for v, _ in reads] + [popcount([c for _, c in reads])])
        flags = dict(self.flags_in)
        valid = flags.pop("valid")
        results, valid, flags, stages = staged_trees(m, columns, cfg.tree_stages, self.enable, valid, flags)
        m.d.comb += [self.flags["valid"].eq(valid), *(self.flags[k].eq(v) for k, v in flags.items()),
                     self.stages_busy.eq(Cat(0, *(v for v, _ in stages)).any())]
        if self.count_held:
            m.d.comb += [held.eq(v & f["last"] & f["plane_last"])
                         for held, (v, f) in zip(self.held_flags, stages, strict=True)]
        sums = [self.sums[p][col] for p in range(cfg.planes_per_cycle) for col in range(cfg.n)]
        with m.If(self.enable):
            m.d.sync += [reg.eq(v) for reg, v in zip(sums, results, strict=True)]
        return m


class LutCore(wiring.Component):
    """LUT tensor core: tables of each token built once and shared by ``n`` columns (weight-stationary, GEMM)
    or by a block of weight tiles streaming through (weight-streaming, GEMV).

    T-MAC (arXiv 2407.00088) and LUT Tensor Core (arXiv 2408.06003): for a group of ``g`` activations the dot
    product with one weight bit-plane takes one of ``2^g`` values; the precompute unit (:class:`TablePrecompute`,
    submodule ``precompute``) builds the ``2^(g-1)`` sign-symmetric entries of every group when a token's beat is
    accepted, and the lookup array (:class:`LookupArray`, submodule ``lookup``) reads them with the weight bits.
    The mirrored half is read as ``~T[~j]`` plus a carry that the column adder tree adds once per column.

    Arithmetic (the golden model ``golden.lut`` defines it bit for bit): the core computes ``D = 2 Y`` per
    tile, ``D = sum_i 2^i S_i + c2 * sum(x)`` with ``S_i`` the column sum of plane ``i`` (scaled back by the
    table quantization shift) and ``c2 = 2^b - 1 - 2z``; accumulates ``D`` over the k-tiles of a token
    (``first``/``last``) and emits ``D >> 1``. Weight codes are converted when a beat is loaded: two's
    complement codes get their top bit inverted (``q = w + 2^(b-1)``), ternary codes become ``q = w + 1``.

    Pipeline: accept (tables and ``sum(x)`` registered) -> lookup of one plane (bit-serial, most significant
    first) or of all planes (column sums registered) -> plane recombination (Horner: ``D = 2 D + S``) and the
    offset, with the accumulator read -> accumulate and emit. The table register holds a token for its ``b``
    bit-serial cycles; the next token's tables are built in the cycle of the current token's last plane and
    replace them at its end, so the lookup array never idles (a second table register would add area and no
    throughput). Latency :attr:`LutCoreConfig.latency`; one token per ``cycles_per_token`` cycles.

    Weights: one beat per group of ``g`` weight rows (``ceil(k / g)`` beats per tile; the last group's rows
    beyond ``k`` are ignored: their lanes read index bit 0 against zero activations. In base 3 their digits are
    part of the group's code and must be 0 for quantized tables to round as the golden model does). The tile
    double buffer switches tiles when the lookup stage finishes the token flagged ``tile_end``. Tokens of a
    block select accumulators by position; a block longer than ``max_tokens`` sets ``error`` and wraps.

    Weight-streaming dataflow (GEMV, batch-1 decode): an activation beat (one token's k-tile) builds the tables,
    which stay in the table register while whole weight tiles stream through, one a beat (``{data: groups x
    group, block_end}``), each looked up in the cycle it is taken. The tiles of a block (up to ``block_tiles``,
    the column tiles that share the activation beat) select accumulators by position; the tile flagged
    ``block_end`` releases the tables, and the next activation beat is taken in that same cycle, so a tile goes
    through every cycle for any K. ``first``/``last`` of the activation beat apply to each tile of its block
    (start from zero, emit); ``tile_end`` is ignored. A block longer than ``block_tiles`` sets ``error`` and
    wraps.

    Decisions where the spec is silent: ternary code 0b10 and a base-3 magnitude above ``(3^g - 1)/2`` compute
    as weight 0 and set ``error`` (sticky until reset). Weight-streaming: the block of tiles is delimited by the
    weight stream (``block_end``), so the host decides per activation beat how many column tiles reuse its
    tables; bit-serial lookups are not offered (a tile a cycle is the point of the dataflow); ``busy`` is high
    while tables wait for their block.

    Attributes
    ----------
    weights : In(stream.Signature(config.weight_layout))
        A group of ``g`` weight rows a beat (weight-stationary) or a whole tile and ``block_end``
        (weight-streaming).
    acts : In(stream.Signature(config.act_layout))
        ``{data: k x signed(act_bits), first, last, tile_end}``.
    out : Out(stream.Signature(config.out_layout))
        ``{data: n x signed(acc_bits)}``, one beat per ``last`` activation beat, in order.
    busy : Signal(1), out
    error : Signal(1), out
    """

    def __init__(self, config: LutCoreConfig) -> None:
        self.config = config
        super().__init__({
            "weights": In(stream.Signature(config.weight_layout)),
            "acts": In(stream.Signature(config.act_layout)),
            "out": Out(stream.Signature(config.out_layout)),
            "busy": Out(1),
            "error": Out(1),
        })
        #: Results the core holds or computes and has not handed out: a formal-proof hook (not a port), driven
        #: only when the proof top sets ``count_held``, so that generated designs stay unchanged.
        self.held = Signal(range(config.latency + 2), name="held")
        self.count_held = False

    def _store(self, payload):
        """A weight beat as the cells keep it: offset codes ``q`` (planes) or checked base-3 codes."""
        cfg = self.config
        if cfg.base3:
            mag_bits = cfg.code_shape.width - 1
            limit = cfg.base3_max
            return Cat(Mux(flat(payload[c])[:mag_bits] > limit, 0, flat(payload[c])) for c in range(cfg.n))
        codes = []
        for t in range(cfg.g):
            for c in range(cfg.n):
                code = flat(payload[t][c])
                if cfg.weight_kind == "ternary":
                    code = Cat(code == 0b00, code == _TERNARY_PLUS) | Mux(code == _TERNARY_INVALID, 0b01, 0)
                elif cfg.weight_bits > 1 and cfg.zero_point is None:
                    code = code ^ (1 << (cfg.weight_bits - 1))
                codes.append(code)
        return Cat(*codes)

    def _invalid(self, payload, slot):
        """An invalid code in a weight beat (``slot``: the group it loads; rows that pad the last group are
        ignored)."""
        cfg = self.config
        if cfg.base3:
            mag_bits = cfg.code_shape.width - 1
            limit = cfg.base3_max
            flags = [flat(payload[c])[:mag_bits] > limit for c in range(cfg.n)]
        elif cfg.weight_kind == "ternary":
            real_rows = cfg.k - (cfg.groups - 1) * cfg.g  # rows of the last group that carry weights
            flags = [(flat(payload[t][c]) == _TERNARY_INVALID) & ((slot != cfg.groups - 1) if t >= real_rows else 1)
                     for t in range(cfg.g) for c in range(cfg.n)]
        else:
            return Const(0)
        return Cat(*flags).any()

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        n = cfg.n

        # The output stage: the stages' enable (`advance`) and the inputs' permission (`accept`): one global
        # stall, or a credit for every result in flight (`backpressure`).
        output = OutputStage(m, self.out, cfg.backpressure, cfg.latency + 1)
        advance, accept = output.advance, output.accept

        act_fire = Signal()
        weight_error = Signal()
        m.submodules.precompute = pre = TablePrecompute(cfg.k, cfg.g, cfg.act_bits, cfg.entry_bits,
                                                         cfg.table_shift, "base3" if cfg.base3 else "half")
        # Stage A: the table register (in `precompute`), held for the token's planes (weight-stationary) or for
        # the block of weight tiles that use it (weight-streaming).
        a_valid, a_first, a_last, a_tile_end = Signal(), Signal(), Signal(), Signal()
        a_plane = Signal(range(max(cfg.planes, 2)))
        a_plane_last = Signal()
        m.d.comb += a_plane_last.eq((a_plane == 0) if cfg.bit_serial else 1)
        a_plane_first = Signal()
        m.d.comb += a_plane_first.eq((a_plane == cfg.planes - 1) if cfg.bit_serial else 1)
        a_done = Signal()  # stage A's work ends this cycle: its tables may be replaced
        look_valid = Signal()  # a lookup happens this cycle

        if cfg.streaming:
            # The tile of the weight beat offered, as the cells keep it; it is looked up in the cycle it is taken.
            tile = Signal(data.ArrayLayout(cfg.group_layout, cfg.groups), name="tile")
            payload = self.weights.payload
            weight_fire = Signal()
            m.d.comb += [
                # one assignment of the whole tile (per-group slices make an always block Icarus crawls through)
                tile.eq(Cat(self._store(payload.data[grp]) for grp in range(cfg.groups))),
                self.weights.ready.eq(accept & a_valid),
                weight_fire.eq(self.weights.valid & self.weights.ready),
                a_done.eq(weight_fire & payload.block_end),
                self.acts.ready.eq(accept & (~a_valid | (self.weights.valid & payload.block_end))),
                weight_error.eq(weight_fire & Cat(self._invalid(payload.data[grp], Const(grp, range(cfg.groups)))
                                                  for grp in range(cfg.groups)).any()),
                look_valid.eq(weight_fire),
            ]
            # A weight tile's position in its block selects its accumulators.
            token, block_overflow = token_counter(m, weight_fire, payload.block_end, cfg.accumulators)
            a_token = token
            block_open = a_valid | (token != 0)
        else:
            tiles = TileDoubleBuffer(m, self.weights, cfg.weight_layout, cfg.groups, store=self._store, name="tile",
                                     flip=cfg.backpressure == "credit")
            tile = tiles.active
            token, block_overflow = token_counter(m, act_fire, self.acts.payload.tile_end, cfg.accumulators)
            a_token = Signal.like(token)
            m.d.comb += [
                a_done.eq(a_valid & a_plane_last & advance),
                tiles.release.eq(a_done & a_tile_end),
                self.acts.ready.eq(accept & (~a_valid | a_plane_last) & tiles.next_valid),
                weight_error.eq(tiles.fire & self._invalid(self.weights.payload, tiles.load_slot)),
                look_valid.eq(a_valid),
            ]
            block_open = (token != 0) | tiles.holding
        lookup = LookupArray(cfg, pre.tables, tile, {
            "valid": look_valid, "first": a_first, "last": a_last, "token": a_token, "plane_first": a_plane_first,
            "plane_last": a_plane_last, "sum_x": pre.sum_x})
        lookup.count_held = self.count_held
        m.submodules.lookup = lookup
        m.d.comb += [
            act_fire.eq(self.acts.valid & self.acts.ready),
            pre.acts.eq(self.acts.payload.data),
            pre.load.eq(act_fire),
            lookup.plane.eq(a_plane),
            lookup.enable.eq(advance),
        ]
        with m.If(advance):
            with m.If(act_fire):
                m.d.sync += [a_valid.eq(1), a_first.eq(self.acts.payload.first), a_last.eq(self.acts.payload.last)]
                if not cfg.streaming:
                    m.d.sync += [a_tile_end.eq(self.acts.payload.tile_end), a_token.eq(token)]
                if cfg.bit_serial:
                    m.d.sync += a_plane.eq(cfg.planes - 1)
            with m.Elif(a_done):
                m.d.sync += a_valid.eq(0)
            with m.Elif(a_valid):
                m.d.sync += a_plane.eq(a_plane - 1)

        # Stage B: column sums (registered in `lookup`) and the token's flags.
        b_valid, b_first, b_last, b_plane_first, b_plane_last = Signal(), Signal(), Signal(), Signal(), Signal()
        b_token = Signal.like(token)
        b_sum_x = Signal.like(pre.sum_x)
        t = lookup.flags  # the flags of the token whose column sums are in the tree's last part
        with m.If(advance):
            m.d.sync += [b_valid.eq(t["valid"]), b_first.eq(t["first"]), b_last.eq(t["last"]),
                         b_token.eq(t["token"]), b_plane_first.eq(t["plane_first"]),
                         b_plane_last.eq(t["plane_last"]), b_sum_x.eq(t["sum_x"])]

        # Stage C: D of the token's tile (Horner over bit-serial planes; the offset with the last plane) and
        # the accumulator row it adds to (0 on `first`), forwarding the sum stage D writes in the same cycle.
        scale = cfg.table_shift + (1 if (cfg.binary or cfg.base3) else 0)
        d_bound = self._d_bound()
        d_shape = signed(max(d_bound.bit_length() + 1, 2))
        acc_shape = signed(cfg.acc_width + 1)  # D = 2 Y
        accs = TokenAccumulators(m, acc_shape, n, cfg.accumulators)
        c_valid, c_last = Signal(), Signal()
        c_token = Signal.like(token)
        c_d = [Signal(d_shape, name=f"tile_d_{c}", reset_less=True) for c in range(n)]
        c_prior = [Signal(acc_shape, name=f"prior_{c}", reset_less=True) for c in range(n)]
        offset = cfg.offset_factor * b_sum_x
        forward = c_valid & (c_token == b_token)
        with m.If(advance):
            m.d.sync += [c_valid.eq(b_valid & b_plane_last), c_last.eq(b_last), c_token.eq(b_token)]
            with m.If(b_valid):
                for c in range(n):
                    if cfg.bit_serial:
                        term = (lookup.sums[0][c] << scale) + Mux(b_plane_last, offset, 0)
                        m.d.sync += c_d[c].eq(Mux(b_plane_first, 0, c_d[c] << 1) + term)
                    else:
                        planes = [lookup.sums[p][c] << (p + scale) for p in range(cfg.planes_per_cycle)]
                        m.d.sync += c_d[c].eq(sum(planes[1:], planes[0]) + offset)
                    m.d.sync += c_prior[c].eq(accs.prior(c, b_token, b_first, forward))

        # Stage D: accumulate; D / 2 of a `last` token goes to the output stage.
        accs.add(c_prior, c_d)
        # Results in flight. Weight-streaming: the tables alone owe nothing; each weight tile looked up against a
        # `last` beat does.
        in_flight = [*([] if cfg.streaming else [a_valid & a_last]), *lookup.held_flags,
                     b_valid & b_last & b_plane_last, c_valid & c_last]
        taken = (self.weights.valid & self.weights.ready & a_last) if cfg.streaming else (
            act_fire & self.acts.payload.last)
        output.count(popcount(in_flight), taken, prove=self.count_held)
        output.write((c_valid, c_last), Cat(accs.total[c][1:] for c in range(n)))  # D / 2
        m.d.comb += [
            self.busy.eq(a_valid | lookup.stages_busy | b_valid | c_valid | output.busy | block_open),
        ]
        with m.If(advance):
            with m.If(c_valid):
                accs.write(c_token)
        if self.count_held:
            m.d.comb += self.held.eq(output.held)
        with m.If(weight_error | block_overflow):
            m.d.sync += self.error.eq(1)
        return m

    def _d_bound(self) -> int:
        """Largest ``|D|`` of one tile: every lookup at the largest (rounded) entry, plus the offset term."""
        cfg = self.config
        entry = max(abs(round_shift(v, cfg.table_shift)) for v in cfg.entry_range) + 1
        plane = cfg.groups * (entry << cfg.table_shift)
        planes = sum(plane << i for i in range(cfg.planes)) * (2 if (cfg.binary or cfg.base3) else 1)
        return planes + abs(cfg.offset_factor) * cfg.k * (1 << (cfg.act_bits - 1))
