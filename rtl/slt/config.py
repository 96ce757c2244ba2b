"""Configuration of the SLT engine (spec: ``slt.md``)."""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import signed, unsigned
from amaranth.lib import data

from ..common.accumulate import GemmTileConfig
from ..common.arith import signed_bits_for
from ..common.naming import unique_name
from ..common.table import entry_range
from ..common.validate import check_choice, check_int

WEIGHT_KINDS = ("binary", "ternary")
#: Item modes on the weight stream (``0b11`` is malformed).
MODE_IDLE, MODE_LUT, MODE_BUFFER, MODE_INVALID = 0, 1, 2, 3
#: Row roles with output reuse (``0b11`` is malformed).
ROLE_PLAIN, ROLE_CENTER, ROLE_MEMBER, ROLE_INVALID = 0, 1, 2, 3
COUNTERS = ("active_cycles", "table_builds", "table_reads", "additions", "skipped", "reused")


@dataclass(frozen=True)
class SltConfig(GemmTileConfig):
    """An SLT engine: ``k / g`` S-LUTs hold a tile of ``k`` activations; ``rows`` output rows x ``lanes``
    groups are served a beat.

    Parameters
    ----------
    k : int, g..1536, a multiple of g
        Activation lanes per beat (one tile of the activation vector).
    g : int, 2..6
        Activations per S-LUT (``2^(g-1)`` stored table entries plus ``g`` raw activations).
    rows : int, 1..1024
        Output rows computed in parallel (S-LUT columns).
    lanes : int, 1..k/g
        Groups each row takes a beat; lane ``l`` serves the tile's groups ``l, l + lanes, ...`` (its bank).
    read_ports : int, 1..g
        Buffer-mode operands a slot reads a cycle: a Buffer group takes ``ceil(nnz / read_ports)`` cycles.
    act_bits : int, 2..16
        Signed activation width.
    weight_kind : "binary" | "ternary"
        Binary weights are all LUT mode and carry no mask (unless ``n_centers`` > 0: deltas have zeros).
    n_centers : int, 0..1024
        Center outputs held for output reuse (0: no clustering, no role fields on the stream).
    max_k : int, k..2^24
        Longest reduction the default accumulator width must hold without overflow.
    acc_bits : int or None, 2..64
        Output width; ``None`` derives the smallest width that cannot overflow for ``max_k``.
    counter_bits : int, 8..64
        Width of each performance counter (they wrap).
    """

    k: int = 24
    g: int = 3
    rows: int = 4
    lanes: int = 1
    read_ports: int = 2
    act_bits: int = 8
    weight_kind: str = "ternary"
    n_centers: int = 0
    max_k: int = 4096
    acc_bits: int | None = None
    counter_bits: int = 32

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_int(owner, "g", self.g, 2, 6)
        check_int(owner, "k", self.k, self.g, 1536, why=f"(at least one S-LUT of g={self.g})")
        if self.k % self.g:
            raise ValueError(f"{owner}.k must be a multiple of g={self.g} (whole S-LUTs), got {self.k}")
        check_int(owner, "rows", self.rows, 1, 1024)
        check_int(owner, "lanes", self.lanes, 1, self.groups,
                  why=f"(lanes share the k/g = {self.k}/{self.g} = {self.groups} S-LUT groups)")
        check_int(owner, "read_ports", self.read_ports, 1, self.g, why=f"(one S-LUT holds g={self.g} inputs)")
        check_int(owner, "act_bits", self.act_bits, 2, 16)
        check_choice(owner, "weight_kind", self.weight_kind, WEIGHT_KINDS)
        check_int(owner, "n_centers", self.n_centers, 0, 1024)
        check_int(owner, "max_k", self.max_k, self.k, 1 << 24, why=f"(at least one tile of k={self.k})")
        if self.acc_bits is not None:
            check_int(owner, "acc_bits", self.acc_bits, 2, 64)
        check_int(owner, "counter_bits", self.counter_bits, 8, 64)

    # --- derived --------------------------------------------------------------------------------------------

    @property
    def groups(self) -> int:
        """S-LUTs (groups of ``g`` activations) per tile."""
        return self.k // self.g

    @property
    def bank_groups(self) -> int:
        """Groups the largest bank holds: the most beats a tile pass of one row needs."""
        return -(-self.groups // self.lanes)

    def bank_size(self, lane: int) -> int:
        return len(range(lane, self.groups, self.lanes))

    @property
    def half_entries(self) -> int:
        return 1 << (self.g - 1)

    @property
    def entries(self) -> int:
        """Entries of one S-LUT: the half table and the raw activations."""
        return self.half_entries + self.g

    @property
    def entry_bits(self) -> int:
        return signed_bits_for(*entry_range(self.g, self.act_bits))

    @property
    def group_bits(self) -> int:
        """Width of an item's group index within its lane's bank."""
        return max(self.bank_groups - 1, 1).bit_length()

    @property
    def center_bits(self) -> int:
        """Width of a row's center id."""
        return max(self.n_centers - 1, 1).bit_length()

    @property
    def count_can_exceed_bank(self) -> bool:
        """Whether the ``count`` field can hold a beat count beyond the bank (a malformed pass length)."""
        return (1 << self.bank_groups.bit_length()) - 1 > self.bank_groups

    @property
    def max_buffer_nnz(self) -> int:
        """Most non-zeros a Buffer group can have: ``g - 1`` (a full group of +-1 is LUT mode), ``g`` with
        clustering (a full delta group of mixed magnitudes), none for binary weights without clustering."""
        if not self.has_mask:
            return 0
        return self.g if self.clustered else self.g - 1

    @property
    def max_passes(self) -> int:
        """Cycles the fullest Buffer group takes."""
        return max(1, -(-self.max_buffer_nnz // self.read_ports))

    @property
    def has_mask(self) -> bool:
        return self.weight_kind == "ternary" or self.n_centers > 0

    @property
    def clustered(self) -> bool:
        return self.n_centers > 0

    @property
    def safe_acc_bits(self) -> int:
        a = 1 << (self.act_bits - 1)
        return signed_bits_for(-self.max_k * a, self.max_k * a)

    # --- stream payloads ------------------------------------------------------------------------------------

    def _per_slot(self, shape) -> data.ArrayLayout:
        return data.ArrayLayout(data.ArrayLayout(shape, self.lanes), self.rows)

    @property
    def weight_layout(self) -> data.StructLayout:
        """One beat: per row slot and lane an item (``mode``, bank ``group``, ``mask``/``sign``/``mag`` bits of
        its ``g`` weights), per row its ``role`` and ``center`` (with clustering), the tile pass's beat
        ``count`` and ``end`` on its last beat."""
        fields = {
            "mode": self._per_slot(unsigned(2)),
            "group": self._per_slot(unsigned(self.group_bits)),
        }
        if self.has_mask:
            fields["mask"] = self._per_slot(unsigned(self.g))
        fields["sign"] = self._per_slot(unsigned(self.g))
        if self.clustered:
            fields["mag"] = self._per_slot(unsigned(self.g))
            fields["role"] = data.ArrayLayout(unsigned(2), self.rows)
            fields["center"] = data.ArrayLayout(unsigned(self.center_bits), self.rows)
        fields["count"] = unsigned(self.bank_groups.bit_length())
        fields["end"] = unsigned(1)
        return data.StructLayout(fields)

    @property
    def act_layout(self) -> data.StructLayout:
        """One activation tile with the ``first``/``last`` flags of its vector (no token blocks: GEMV)."""
        return data.StructLayout({"data": data.ArrayLayout(signed(self.act_bits), self.k), "first": 1, "last": 1})

    @property
    def act_lanes(self) -> int:
        return self.k

    @property
    def out_lanes(self) -> int:
        return self.rows

    @property
    def perf_layout(self) -> data.StructLayout:
        return data.StructLayout({name: unsigned(self.counter_bits) for name in COUNTERS})

    # --- performance ----------------------------------------------------------------------------------------

    @property
    def latency(self) -> int:
        """Cycles from accepting a block's last weight beat (one pass) to its output beat being valid: the beat
        register, the S-LUT reads and column sums, then accumulation (with the center output)."""
        return 3

    @property
    def throughput(self) -> float:
        """Weight beats per cycle when every Buffer group fits one pass."""
        return 1.0

    @property
    def ops_per_cycle(self) -> int:
        """Peak weights applied a cycle: every slot a full group."""
        return self.rows * self.lanes * self.g

    @property
    def top_name(self) -> str:
        clustered = f"_c{self.n_centers}" if self.clustered else ""
        readable = (f"slt_{self.weight_kind}_g{self.g}_a{self.act_bits}_{self.rows}x{self.lanes}_k{self.k}"
                    f"_p{self.read_ports}{clustered}")
        return unique_name(readable, self, ("weight_kind", "g", "act_bits", "rows", "lanes", "k", "read_ports",
                                            "n_centers"))
