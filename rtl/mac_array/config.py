"""Configuration of the MAC array (spec: ``ternary_mac.md``)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from amaranth.hdl import Shape, signed, unsigned
from amaranth.lib import data

from ..common.accumulate import GemmTileConfig
from ..common.arith import signed_bits_for, tree_depth
from ..common.naming import unique_name
from ..common.pipeline import BACKPRESSURE
from ..common.validate import check_choice, check_int

WEIGHT_KINDS = ("ternary", "int8")
DATAFLOWS = ("weight_stationary", "weight_streaming")
REDUCTIONS = ("adder_tree",)


@dataclass(frozen=True)
class MacArrayConfig(GemmTileConfig):
    """A ``rows x cols`` array of processing elements with int activations and ternary or int8 weights.

    Parameters
    ----------
    rows : int, 1..256
        Activation lanes (the reduction dimension of one tile, R).
    cols : int, 1..256
        Output columns (C).
    act_bits : int, 2..16
        Signed activation width.
    weight_kind : "ternary" | "int8"
        ``ternary``: 2-bit codes and add/subtract/skip PEs; ``int8``: signed 8-bit weights and a multiplier per PE
        (the baseline).
    dataflow : "weight_stationary" | "weight_streaming"
        GEMM (double-buffered weight tile, token blocks) or GEMV (one whole tile per weight beat).
    reduction : "adder_tree"
        How a column reduces its R products (systolic skewing is allowed by the spec but not built yet).
    max_tokens : int, 1..1024
        Accumulators per column (token block length) in ``weight_stationary``; must be 1 in ``weight_streaming``.
    max_k : int, rows..2^24
        Longest reduction the default accumulator width must hold without overflow.
    acc_bits : int or None, 2..64
        Accumulator width; ``None`` derives the smallest width that cannot overflow for ``max_k``.
    counter_bits : int, 8..64
        Width of the non-zero MAC performance counter.
    tree_stages : int, 0..ceil(log2(rows))
        Register stages cut into each column's adder tree (its ``ceil(log2(rows))`` levels spread evenly over
        ``tree_stages + 1`` parts, the earlier parts the larger); each adds one cycle of latency.
    backpressure : "stall" | "credit"
        ``stall``: a full output register holds the whole pipeline (one enable for every stage). ``credit``:
        the pipeline never stalls; an output queue of ``latency + 1`` entries and a credit count at the input
        (issue: timing closure; it costs the queue's flip-flops).
    """

    rows: int = 4
    cols: int = 4
    act_bits: int = 8
    weight_kind: str = "ternary"
    dataflow: str = "weight_stationary"
    reduction: str = "adder_tree"
    max_tokens: int = 16
    max_k: int = 4096
    acc_bits: int | None = None
    counter_bits: int = 48
    tree_stages: int = 0
    backpressure: str = "stall"

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_int(owner, "rows", self.rows, 1, 256)
        check_int(owner, "cols", self.cols, 1, 256)
        check_int(owner, "act_bits", self.act_bits, 2, 16)
        check_choice(owner, "weight_kind", self.weight_kind, WEIGHT_KINDS)
        check_choice(owner, "dataflow", self.dataflow, DATAFLOWS)
        check_choice(owner, "reduction", self.reduction, REDUCTIONS)
        check_choice(owner, "backpressure", self.backpressure, BACKPRESSURE)
        if self.dataflow == "weight_streaming":
            check_int(owner, "max_tokens", self.max_tokens, 1, 1, why="for dataflow='weight_streaming'")
        else:
            check_int(owner, "max_tokens", self.max_tokens, 1, 1024)
        check_int(owner, "max_k", self.max_k, self.rows, 1 << 24, why=f"(at least one tile of rows={self.rows})")
        if self.acc_bits is not None:
            check_int(owner, "acc_bits", self.acc_bits, 2, 64)
        check_int(owner, "counter_bits", self.counter_bits, 8, 64)
        levels = tree_depth(self.rows)
        check_int(owner, "tree_stages", self.tree_stages, 0, levels,
                  why=f"(the column adder tree of rows={self.rows} has {levels} levels)")

    # --- derived widths (computed here and nowhere else) ---------------------------------------------------

    @property
    def weight_shape(self) -> Shape:
        """One weight lane: a 2-bit ternary code (0b00 = 0, 0b01 = +1, 0b11 = -1) or a signed int8."""
        return unsigned(2) if self.weight_kind == "ternary" else signed(8)

    @property
    def product_range(self) -> tuple[int, int]:
        amin, amax = -(1 << (self.act_bits - 1)), (1 << (self.act_bits - 1)) - 1
        if self.weight_kind == "ternary":
            return amin, -amin
        corners = [a * w for a in (amin, amax) for w in (-128, 127)]
        return min(corners), max(corners)

    @property
    def safe_acc_bits(self) -> int:
        """The smallest accumulator width that cannot overflow for a reduction of ``max_k`` products."""
        lo, hi = self.product_range
        return signed_bits_for(self.max_k * lo, self.max_k * hi)

    @property
    def accumulators(self) -> int:
        return self.max_tokens if self.dataflow == "weight_stationary" else 1

    # --- stream payloads -----------------------------------------------------------------------------------

    @property
    def weight_layout(self) -> data.ArrayLayout:
        row = data.ArrayLayout(self.weight_shape, self.cols)
        return row if self.dataflow == "weight_stationary" else data.ArrayLayout(row, self.rows)

    @property
    def act_lanes(self) -> int:
        return self.rows

    @property
    def out_lanes(self) -> int:
        return self.cols

    # --- performance ---------------------------------------------------------------------------------------

    @property
    def latency(self) -> int:
        """Cycles from the acceptance of a ``last`` activation beat to its output beat being valid: products,
        the column trees (plus ``tree_stages``), accumulation."""
        return 3 + self.tree_stages

    @property
    def throughput(self) -> float:
        """Activation beats per cycle in steady state."""
        return 1.0

    @property
    def ops_per_cycle(self) -> int:
        """Peak MACs per cycle (every PE busy)."""
        return self.rows * self.cols

    @property
    def top_name(self) -> str:
        flow = "" if self.dataflow == "weight_stationary" else "gemv_"
        encoded = ("weight_kind", "dataflow", "rows", "cols")
        encoded += ("max_tokens",) if flow else ()  # one token is what weight_streaming means
        return unique_name(f"mac_{self.weight_kind}_{flow}{self.rows}x{self.cols}", self, encoded)

    def baseline(self) -> MacArrayConfig | None:
        """The conventional design this one replaces: the int8 array of equal shape (None for int8 itself)."""
        if self.weight_kind == "int8":
            return None
        return replace(self, weight_kind="int8", acc_bits=None)
