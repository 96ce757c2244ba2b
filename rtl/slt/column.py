"""One S-LUT column of the SLT engine: the ``lanes`` slots of one output row (spec: ``slt.md``)."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Elaboratable, Module, Mux, Signal, signed

from ..common.arith import adder_tree, popcount, signed_bits_for
from ..common.table import select
from .config import MODE_BUFFER, MODE_IDLE, MODE_INVALID, MODE_LUT, ROLE_MEMBER, SltConfig


def rowsum_shape(cfg: SltConfig):
    """A row's sum of one pass: every lane at its largest term, plus the negation carries."""
    a = 1 << (cfg.act_bits - 1)
    bound = cfg.lanes * 2 * max(cfg.g, cfg.read_ports) * a + 2 * cfg.lanes * (cfg.read_ports + 1)
    return signed(signed_bits_for(-bound, bound))


def read_flags(cfg: SltConfig) -> int:
    """S-LUT entries a row can read: per lane, its bank's groups x entries."""
    return sum(cfg.bank_size(lane) for lane in range(cfg.lanes)) * cfg.entries


def output_shapes(cfg: SltConfig) -> dict[str, object]:
    """The shapes of a column's outputs, which the engine also gives the signals it connects to them."""
    return {"rowsum": rowsum_shape(cfg), "more": 1, "reads": read_flags(cfg),
            "terms": range(cfg.lanes * cfg.read_ports + 1), "visited": range(cfg.lanes + 1), "malformed": 1}


class SltColumn(Elaboratable):
    """The ``lanes`` slots of one output row: each reads its item's group from the S-LUTs of its bank; their
    sum is registered in ``rowsum`` when ``enable`` is high.

    Each group's S-LUT is a register file of ``2^g`` entries (its ``2^(g-1)`` half-table entries, then its
    ``g`` raw activations) read through ``read_ports`` ports. A LUT item reads one half-table entry on port 0
    (index bit ``t`` set for a +1 weight; a set top bit reads ``~T[~index]``, its ``+1`` added once per row as a
    popcount), doubled when its weights are all +-2. A Buffer item reads, in pass ``p``, the raw activations of
    its non-zero weights number ``p * read_ports`` onwards, one per port (port 0 included), each inverted (plus
    a carry) when negative and doubled when of magnitude 2.

    Ports are flat vectors so that the column is emitted once as a Verilog module and instantiated per row
    (a Slim-Llama-class array has 512 of them): inputs ``tables`` (every group's half table), ``raw`` (the
    tile's activations), the row's item fields ``mode``, ``group``, ``mask``, ``sign``, ``mag`` (lane-major),
    ``role``, ``pass_index``, ``enable``; outputs ``rowsum`` (registered), and for the engine's control and
    counters ``more`` (a Buffer item has operands beyond this pass), ``reads`` (one bit per lane, bank group
    and S-LUT entry read this pass), ``terms`` (operands added), ``visited`` (items not idle), ``malformed``.
    """

    def __init__(self, cfg: SltConfig) -> None:
        self.cfg = cfg
        lanes, g = cfg.lanes, cfg.g
        self.enable = Signal()
        self.pass_index = Signal(range(max(cfg.max_passes, 2)))
        self.tables = Signal(cfg.groups * cfg.half_entries * cfg.entry_bits)
        self.raw = Signal(cfg.k * cfg.act_bits)
        self.mode = Signal(2 * lanes)
        self.group = Signal(cfg.group_bits * lanes)
        self.mask = Signal(g * lanes)
        self.sign = Signal(g * lanes)
        self.mag = Signal(g * lanes)
        self.role = Signal(2)
        shapes = output_shapes(cfg)
        self.rowsum = Signal(shapes["rowsum"], reset_less=True)
        self.more = Signal(shapes["more"])
        self.reads = Signal(shapes["reads"])
        self.terms = Signal(shapes["terms"])
        self.visited = Signal(shapes["visited"])
        self.malformed = Signal(shapes["malformed"])

    @property
    def ports(self) -> list[Signal]:
        cfg = self.cfg
        inputs = [self.enable, self.pass_index, self.tables, self.raw, self.mode, self.group, self.sign]
        inputs += [self.mask] if cfg.has_mask else []
        inputs += [self.mag, self.role] if cfg.clustered else []
        return inputs + [self.rowsum, self.more, self.reads, self.terms, self.visited, self.malformed]

    def _fields(self, lane: int):
        cfg = self.cfg
        g, gb = cfg.g, cfg.group_bits
        mode = self.mode[2 * lane : 2 * lane + 2]
        return {
            "mode": mode,
            "group": self.group[gb * lane : gb * (lane + 1)],
            "mask": self.mask[g * lane : g * (lane + 1)] if cfg.has_mask else Const((1 << g) - 1, g),
            "sign": self.sign[g * lane : g * (lane + 1)],
            "mag": self.mag[g * lane : g * (lane + 1)] if cfg.clustered else Const(0, g),
            "is_lut": mode == MODE_LUT,
            "is_buf": (mode == MODE_BUFFER) if cfg.has_mask else Const(0),
        }

    def _positions(self, m: Module, name: str, mask, is_buf):
        """Per read port the position of the non-zero it reads this pass and whether it has one; and whether
        the item has non-zeros left for a later pass."""
        cfg = self.cfg
        ports = cfg.read_ports
        pos_shape = range(max(cfg.g, 2))
        pos = [Signal(pos_shape, name=f"{name}_pos{q}") for q in range(ports)]
        ok = [Signal(name=f"{name}_ok{q}") for q in range(ports)]
        more = Signal(name=f"{name}_more")
        index = mask if cfg.max_passes == 1 else Cat(mask, self.pass_index)
        with m.Switch(index):
            for mask_value in range(1 << cfg.g):
                set_bits = [t for t in range(cfg.g) if (mask_value >> t) & 1]
                for p in range(cfg.max_passes):
                    with m.Case(mask_value | (p << cfg.g)):
                        for q in range(ports):
                            j = p * ports + q
                            hit = j < len(set_bits)
                            m.d.comb += [pos[q].eq(set_bits[j] if hit else 0), ok[q].eq(hit)]
                        # Every case assigns (an empty case is dropped and the case statement left
                        # incomplete).
                        m.d.comb += more.eq(len(set_bits) > (p + 1) * ports)
            if len(index) > cfg.g and (1 << (len(index) - cfg.g)) > cfg.max_passes:
                # Pass indices the counter never reaches (3 or 5 passes in a 2- or 3-bit index): a default
                # keeps the case statement complete.
                with m.Default():
                    m.d.comb += [*(x.eq(0) for x in pos), *(o.eq(0) for o in ok), more.eq(0)]
        return pos, [o & is_buf for o in ok], more & is_buf

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        g, half = cfg.g, cfg.half_entries
        pos_bits = max(g - 1, 1).bit_length()
        first_pass = Signal()
        m.d.comb += first_pass.eq(self.pass_index == 0)
        more, terms, visited, malformed = [], [], [], []
        # Per lane, bank group and entry: whether this row reads it this pass.
        lane_reads = [[[[] for _ in range(cfg.entries)] for _ in range(cfg.bank_size(lane))]
                      for lane in range(cfg.lanes)]
        values, carries1, carries2 = [], [], []
        eb, ab = cfg.entry_bits, cfg.act_bits
        for lane in range(cfg.lanes):
            bank = list(range(lane, cfg.groups, cfg.lanes))
            table_entries = [self.tables[(grp * half + e) * eb : (grp * half + e + 1) * eb].as_signed()
                             for grp in bank for e in range(half)]
            raw_entries = []
            for grp in bank:
                raw_entries += [self.raw[(grp * g + t) * ab : (grp * g + t + 1) * ab].as_signed()
                                for t in range(g)]
                raw_entries += [Const(0, signed(ab))] * ((1 << pos_bits) - g)
            f = self._fields(lane)
            name = f"slot_{lane}"
            group, sign, mag, mask = f["group"], f["sign"], f["mag"], f["mask"]
            index = ~sign  # LUT mode: bit t set for a +1 weight; a set top bit reads the mirrored half
            top = Signal(name=f"{name}_top")
            m.d.comb += top.eq(index[g - 1])
            low = index[: g - 1] ^ top.replicate(g - 1)
            lut_on = f["is_lut"] & first_pass
            double = mag[0] if cfg.clustered else Const(0)
            terms.append(lut_on)
            # One-hot decodes shared by the read flags of this slot (counted once per entry and cycle).
            group_hot = Signal(len(bank), name=f"{name}_group_hot")
            m.d.comb += group_hot.eq(Cat(*[group == i for i in range(len(bank))]))
            lut_hot = Signal(half, name=f"{name}_lut_hot")
            m.d.comb += lut_hot.eq(Cat(*[lut_on & (low == e) for e in range(half)]))
            for i in range(len(bank)):
                for e in range(half):
                    lane_reads[lane][i][e].append(group_hot[i] & lut_hot[e])
            visited.append(f["is_lut"] | f["is_buf"])
            malformed.append(self._malformed(f, lane))
            if not cfg.has_mask:  # binary weights: LUT mode only, port 0 reads the table
                value = select(m, table_entries, Cat(low, group), top, f"{name}_port0")
                values.append(Mux(lut_on, value, 0))
                carries1.append(lut_on & top)
                continue
            # The S-LUT register file: per group the half table, then the raw activations, read through
            # `read_ports` ports. Port 0 serves the LUT read or the first Buffer operand, the others Buffer
            # operands only (raw activations).
            pos, ok, slot_more = self._positions(m, name, mask, f["is_buf"])
            more.append(slot_more)
            file_entries = []
            for grp_index in range(len(bank)):
                file_entries += table_entries[grp_index * half:(grp_index + 1) * half]
                file_entries += raw_entries[grp_index << pos_bits:(grp_index << pos_bits) + g]
                file_entries += [Const(0, signed(eb))] * ((1 << g) - half - g)
            for q in range(cfg.read_ports):
                negative = Signal(name=f"{name}_neg{q}")
                m.d.comb += negative.eq(sign.bit_select(pos[q], 1))
                dbl = Const(0)
                if cfg.clustered:
                    dbl = Signal(name=f"{name}_dbl{q}")
                    m.d.comb += dbl.eq(mag.bit_select(pos[q], 1))
                if q == 0:
                    address = Mux(lut_on, low, pos[0][:g] + half)
                    invert, scale, on = Mux(lut_on, top, negative), Mux(lut_on, double, dbl), lut_on | ok[0]
                    x = select(m, file_entries, Cat(address[:g], group), invert, f"{name}_port0")
                else:
                    invert, scale, on = negative, dbl, ok[q]
                    x = select(m, raw_entries, Cat(pos[q][:pos_bits], group), negative, f"{name}_port{q}")
                values.append(Mux(on, Mux(scale, x << 1, x), 0))
                carries1.append(on & invert & ~scale)
                carries2.append(on & invert & scale)
                terms.append(ok[q])
                pos_hot = Signal(g, name=f"{name}_buf{q}_hot")
                m.d.comb += pos_hot.eq(Cat(*[ok[q] & (pos[q] == t) for t in range(g)]))
                for i in range(len(bank)):
                    for t in range(g):
                        lane_reads[lane][i][half + t].append(group_hot[i] & pos_hot[t])
        with m.If(self.enable):
            carries = popcount(carries1) + ((popcount(carries2) << 1) if carries2 else 0)
            m.d.sync += self.rowsum.eq(adder_tree(values + [carries]))
        reads = [Cat(*hits).any() if hits else Const(0) for lane in lane_reads for grp in lane for hits in grp]
        m.d.comb += [
            self.more.eq(Cat(*more).any() if more else 0),
            self.reads.eq(Cat(*reads)),
            self.terms.eq(popcount(terms)),
            self.visited.eq(popcount(visited)),
            self.malformed.eq(Cat(*malformed).any()),
        ]
        return m

    def _malformed(self, f, lane: int):
        """The item breaks the compressed format: a bad mode, a sign or magnitude bit on a zero weight, a LUT
        group that is not full or mixes magnitudes, an empty Buffer group, a full one without output reuse, a
        magnitude-2 (delta) code outside a member row, or a group beyond its bank."""
        cfg = self.cfg
        full = (1 << cfg.g) - 1
        mode, mask, sign, mag = f["mode"], f["mask"], f["sign"], f["mag"]
        active = f["is_lut"] | f["is_buf"]
        bad = [mode == MODE_INVALID]
        if (1 << len(f["group"])) > cfg.bank_size(lane):  # the field can name a group beyond the bank
            bad.append(active & (f["group"] >= cfg.bank_size(lane)))
        if cfg.has_mask:
            bad += [active & ((sign | mag) & ~mask).any(), f["is_lut"] & (mask != full),
                    f["is_buf"] & (mask == 0)]
            if not cfg.clustered:  # a full group of +-1 is LUT mode: only a delta group fills a Buffer group
                bad.append(f["is_buf"] & (mask == full))
        else:
            bad.append(mode == MODE_BUFFER)
        if cfg.clustered:
            role = self.role
            bad += [f["is_lut"] & (mag != 0) & (mag != full), active & mag.any() & (role != ROLE_MEMBER)]
        return Cat(*bad).any() & (mode != MODE_IDLE)
