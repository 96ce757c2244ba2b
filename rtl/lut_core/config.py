"""Configuration of the LUT tensor core (spec: ``lut_tensor_core.md``)."""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import unsigned
from amaranth.lib import data

from ..common.accumulate import GemmTileConfig
from ..common.arith import signed_bits_for, tree_depth
from ..common.naming import unique_name
from ..common.pipeline import BACKPRESSURE
from ..common.table import entry_range, round_shift
from ..common.validate import check_choice, check_int

WEIGHT_KINDS = ("int", "ternary")
TERNARY_PACKINGS = ("planes", "base3")
DATAFLOWS = ("weight_stationary", "weight_streaming")


@dataclass(frozen=True)
class LutCoreConfig(GemmTileConfig):
    """A ``k x n`` LUT tensor core tile: ``ceil(k / g)`` tables per token, ``n`` columns of lookup cells.

    Parameters
    ----------
    k : int, 1..1024
        Activation lanes per beat (the reduction length of one tile).
    n : int, 1..256
        Output columns.
    g : int, 2..6
        Activations per table group (``2^(g-1)`` stored entries per table; base 3: ``(3^g + 1)/2``).
    act_bits : int, 2..16
        Signed activation width.
    weight_kind : "int" | "ternary"
        ``int``: ``weight_bits``-bit weights (1 = binary {-1, +1}); ``ternary``: the 2-bit codes of
        conventions.md, computed as ``b = 2``, ``z = 1``.
    weight_bits : int, 1..4
        ``b``; must be 2 for ternary.
    zero_point : int or None, 0..2^b - 1
        ``None``: two's-complement weights (conventions.md); else codes are ``w + zero_point``. Only for ``int``
        weights with ``b >= 2``.
    ternary_packing : "planes" | "base3"
        Ternary only: two bit-planes with ``z = 1``, or one base-3 index of ``g`` weights (sign + magnitude,
        bitnet.cpp TL2 style).
    bit_serial : bool
        One weight bit-plane per cycle (``b`` cycles per token) or all planes at once. Must be False for base 3.
    table_bits : int or None
        Store table entries rounded to this signed width (T-MAC's table quantization); ``None`` is exact.
        At most the exact entry width.
    dataflow : "weight_stationary" | "weight_streaming"
        GEMM: weight indices held in the cells (double-buffered tile) while tokens stream through. GEMV (batch-1
        decode): one token's tables held while whole weight tiles stream through, one tile a beat.
    max_tokens : int, 1..1024
        Accumulators per column (token block length) in ``weight_stationary``; must be 1 in
        ``weight_streaming``.
    block_tiles : int, 1..1024
        ``weight_streaming`` only (else 1): the weight tiles (column tiles) that share one activation beat's
        tables, each with its own accumulator per column.
    max_k : int, k..2^24
        Longest reduction the default accumulator width must hold without overflow.
    acc_bits : int or None, 2..64
        Output width; ``None`` derives the smallest width that cannot overflow for ``max_k`` (two bits more
        with ``table_bits``: rounded entries can carry a sum past the exact bound).
    tree_stages : int, 0..ceil(log2(groups + 1))
        Register stages cut into each column's adder tree (the ``groups`` reads and the count of their negation
        carries; levels spread evenly, as in the MAC array); each adds one cycle of latency.
    backpressure : "stall" | "credit"
        As in the MAC array: one global stall, or a pipeline that never stalls with an output queue of
        ``latency + 1`` entries and a credit count at the input.
    """

    k: int = 16
    n: int = 16
    g: int = 4
    act_bits: int = 8
    weight_kind: str = "ternary"
    weight_bits: int = 2
    zero_point: int | None = None
    ternary_packing: str = "planes"
    bit_serial: bool = False
    table_bits: int | None = None
    dataflow: str = "weight_stationary"
    max_tokens: int = 16
    block_tiles: int = 1
    max_k: int = 4096
    acc_bits: int | None = None
    tree_stages: int = 0
    backpressure: str = "stall"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_int(owner, "k", self.k, 1, 1024)
        check_int(owner, "n", self.n, 1, 256)
        check_int(owner, "g", self.g, 2, 6)
        check_int(owner, "act_bits", self.act_bits, 2, 16)
        check_choice(owner, "weight_kind", self.weight_kind, WEIGHT_KINDS)
        check_choice(owner, "ternary_packing", self.ternary_packing, TERNARY_PACKINGS)
        check_choice(owner, "dataflow", self.dataflow, DATAFLOWS)
        check_choice(owner, "backpressure", self.backpressure, BACKPRESSURE)
        if not isinstance(self.bit_serial, bool):
            raise ValueError(f"{owner}.bit_serial must be true or false, got {self.bit_serial!r}")
        if self.weight_kind == "ternary":
            check_int(owner, "weight_bits", self.weight_bits, 2, 2, why="for weight_kind='ternary'")
            if self.zero_point is not None:
                raise ValueError(f"{owner}.zero_point must be unset for ternary weights (they use z = 1), "
                                 f"got {self.zero_point}")
        else:
            check_int(owner, "weight_bits", self.weight_bits, 1, 4)
            if self.ternary_packing != "planes":
                raise ValueError(f"{owner}.ternary_packing must be 'planes' for int weights, "
                                 f"got {self.ternary_packing!r}")
            if self.zero_point is not None:
                if self.weight_bits == 1:
                    raise ValueError(f"{owner}.zero_point must be unset for binary weights (weight_bits=1), "
                                     f"got {self.zero_point}")
                check_int(owner, "zero_point", self.zero_point, 0, (1 << self.weight_bits) - 1,
                          why=f"(a code of weight_bits={self.weight_bits})")
        if self.base3 and self.bit_serial:
            raise ValueError(f"{owner}.bit_serial must be false with ternary_packing='base3' "
                             "(a base-3 index has no bit-planes)")
        if self.table_bits is not None:
            check_int(owner, "table_bits", self.table_bits, 2, self.exact_entry_bits,
                      why=f"(exact entries of g={self.g} act_bits={self.act_bits} activations need no more)")
        if self.streaming:
            check_int(owner, "max_tokens", self.max_tokens, 1, 1, why="for dataflow='weight_streaming'")
            check_int(owner, "block_tiles", self.block_tiles, 1, 1024)
            if self.bit_serial:
                raise ValueError(f"{owner}.bit_serial must be false with dataflow='weight_streaming' (a weight "
                                 "tile a cycle is what the GEMV dataflow is for)")
        else:
            check_int(owner, "max_tokens", self.max_tokens, 1, 1024)
            check_int(owner, "block_tiles", self.block_tiles, 1, 1, why="for dataflow='weight_stationary'")
        check_int(owner, "max_k", self.max_k, self.k, 1 << 24, why=f"(at least one tile of k={self.k})")
        if self.acc_bits is not None:
            check_int(owner, "acc_bits", self.acc_bits, 2, 64)
        levels = tree_depth(self.groups + 1)
        check_int(owner, "tree_stages", self.tree_stages, 0, levels,
                  why=f"(the column adder tree of {self.groups} groups and their carry count has {levels} levels)")

    # --- derived --------------------------------------------------------------------------------------------

    @property
    def streaming(self) -> bool:
        return self.dataflow == "weight_streaming"

    @property
    def accumulators(self) -> int:
        """Accumulators per column: one per token of a block, or per weight tile of a block (GEMV)."""
        return self.block_tiles if self.streaming else self.max_tokens

    @property
    def base3(self) -> bool:
        return self.weight_kind == "ternary" and self.ternary_packing == "base3"

    @property
    def binary(self) -> bool:
        return self.weight_kind == "int" and self.weight_bits == 1

    @property
    def groups(self) -> int:
        return -(-self.k // self.g)

    @property
    def planes(self) -> int:
        """Bit-planes looked up per token (1 for base 3)."""
        return 1 if self.base3 else self.weight_bits

    @property
    def planes_per_cycle(self) -> int:
        return 1 if self.bit_serial else self.planes

    @property
    def cycles_per_token(self) -> int:
        return self.planes // self.planes_per_cycle

    @property
    def entry_range(self) -> tuple[int, int]:
        """Smallest and largest exact table entry: ``g`` activations at ``-2^(act_bits-1)``, either sign."""
        return entry_range(self.g, self.act_bits)

    @property
    def exact_entry_bits(self) -> int:
        return signed_bits_for(*self.entry_range)

    @property
    def table_shift(self) -> int:
        """The smallest shift that rounds every possible entry into ``table_bits`` signed bits (0 if exact)."""
        if self.table_bits is None:
            return 0
        lo, hi = self.entry_range
        shift = 0
        while signed_bits_for(round_shift(lo, shift), round_shift(hi, shift)) > self.table_bits:
            shift += 1
        return shift

    @property
    def base3_max(self) -> int:
        """Largest base-3 magnitude ``|sum_t 3^t w_t|`` of a group: ``(3^g - 1) / 2``."""
        return (3 ** self.g - 1) // 2

    @property
    def zero_point_value(self) -> int | None:
        """The ``z`` of the offset codes the tables see: 1 for ternary, ``2^(b-1)`` for two's complement, none
        for binary."""
        if self.weight_kind == "ternary":
            return 1
        if self.binary:
            return None
        return (1 << (self.weight_bits - 1)) if self.zero_point is None else self.zero_point

    @property
    def weight_range(self) -> tuple[int, int]:
        """The weight values the mode represents (ternary and binary: -1..1)."""
        z = self.zero_point_value
        if self.weight_kind == "ternary" or z is None:
            return -1, 1
        return -z, (1 << self.weight_bits) - 1 - z

    @property
    def entry_bits(self) -> int:
        return self.exact_entry_bits if self.table_bits is None else self.table_bits

    @property
    def offset_factor(self) -> int:
        """``c2``: the zero-point term of ``2 Y`` is ``c2 * sum(x)`` (none for base-3 indices)."""
        z = self.zero_point_value
        if self.base3 or z is None:
            return 0
        return (1 << self.weight_bits) - 1 - 2 * z

    @property
    def code_shape(self):
        """One weight lane on the stream: a ``b``-bit code (ternary: 2 bits); base 3: sign + magnitude."""
        if self.base3:
            return unsigned(1 + self.base3_max.bit_length())
        return unsigned(self.weight_bits)

    @property
    def safe_acc_bits(self) -> int:
        """The smallest output width that cannot overflow for ``max_k`` (two more bits with quantized tables,
        whose rounding can carry the sum past the exact bound)."""
        amin, amax = -(1 << (self.act_bits - 1)), (1 << (self.act_bits - 1)) - 1
        products = [a * w for a in (amin, amax) for w in self.weight_range]
        exact = signed_bits_for(self.max_k * min(products), self.max_k * max(products))
        return exact + (2 if self.table_bits is not None else 0)

    # --- stream payloads ------------------------------------------------------------------------------------

    @property
    def group_layout(self) -> data.ArrayLayout:
        """The weights of one group of ``g`` rows: ``[t][c]`` (row ``t`` of the group, column ``c``) codes, or
        ``[c]`` base-3 group codes."""
        row = data.ArrayLayout(self.code_shape, self.n)
        return row if self.base3 else data.ArrayLayout(row, self.g)

    @property
    def weight_layout(self) -> data.Layout:
        """``weight_stationary``: one beat per group (:attr:`group_layout`). ``weight_streaming``: a whole tile a
        beat, ``{data: groups x group, block_end}``, ``block_end`` flagging the last tile of the block that shares
        the current activation beat."""
        if not self.streaming:
            return self.group_layout
        return data.StructLayout({"data": data.ArrayLayout(self.group_layout, self.groups), "block_end": 1})

    @property
    def act_lanes(self) -> int:
        return self.k

    @property
    def out_lanes(self) -> int:
        return self.n

    # --- performance ----------------------------------------------------------------------------------------

    @property
    def latency(self) -> int:
        """Cycles from the acceptance of a ``last`` activation beat to its output beat being valid: the table
        register, the lookup planes, then column sums (plus ``tree_stages``), plane recombination and
        accumulation."""
        return self.cycles_per_token + 3 + self.tree_stages

    @property
    def throughput(self) -> float:
        """Tiles (``k x n`` MAC blocks) per cycle in steady state: activation beats (``weight_stationary``) or
        weight beats (``weight_streaming``)."""
        return 1.0 / self.cycles_per_token

    @property
    def ops_per_cycle(self) -> float:
        """Peak ``b``-bit MACs per cycle."""
        ops = self.k * self.n / self.cycles_per_token
        return int(ops) if ops == int(ops) else round(ops, 3)

    @property
    def top_name(self) -> str:
        kind = "ternary" if self.weight_kind == "ternary" else f"int{self.weight_bits}"
        kind += "_b3" if self.base3 else ""
        serial = "_serial" if self.bit_serial else ""
        quant = f"_t{self.table_bits}" if self.table_bits is not None else ""
        flow = f"gemv_b{self.block_tiles}_" if self.streaming else ""
        encoded = ("weight_kind", "ternary_packing", "g", "k", "n", "bit_serial", "table_bits", "dataflow",
                   "block_tiles")
        encoded += ("max_tokens",) if flow else ()  # one token is what weight_streaming means
        encoded += () if self.weight_kind == "ternary" else ("weight_bits",)
        return unique_name(f"lut_{kind}_g{self.g}_{flow}{self.k}x{self.n}{serial}{quant}", self, encoded)
