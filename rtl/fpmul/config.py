"""Configurations of the float multipliers (spec: ``lmul.md``): L-Mul and its exact (RNE) baseline."""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.lib import data

from ..common.float import FloatSpec
from ..common.naming import unique_name
from ..common.validate import check_choice, check_int

NORMS = ("carry", "shift")
OVERFLOWS = ("inf", "saturate")


def offset_exponent(man_bits: int) -> int:
    """``l(m)`` of L-Mul (Luo and Sun, arXiv 2410.00907, Eq. 3): m for m <= 3, 3 for m = 4, 4 for m > 4."""
    return man_bits if man_bits <= 3 else 3 if man_bits == 4 else 4


@dataclass(frozen=True)
class _FloatMulBase:
    exp_bits: int = 8
    man_bits: int = 7
    finite_only: bool = False
    overflow: str = "inf"
    stages: int = 1

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_int(owner, "exp_bits", self.exp_bits, 2, 11)
        check_int(owner, "man_bits", self.man_bits, 1, 23)
        if not isinstance(self.finite_only, bool):
            raise ValueError(f"{owner}.finite_only must be true or false, got {self.finite_only!r}")
        check_choice(owner, "overflow", self.overflow, OVERFLOWS)
        check_int(owner, "stages", self.stages, 0, 3)

    @property
    def spec(self) -> FloatSpec:
        return FloatSpec(self.exp_bits, self.man_bits, self.finite_only)

    @property
    def format_name(self) -> str:
        return f"e{self.exp_bits}m{self.man_bits}" + ("fn" if self.finite_only else "")

    @property
    def operand_layout(self) -> data.StructLayout:
        return data.StructLayout({"a": self.spec.width, "b": self.spec.width})

    @property
    def result_layout(self) -> data.StructLayout:
        return data.StructLayout({"product": self.spec.width})

    @property
    def latency(self) -> int:
        return self.stages

    @property
    def throughput(self) -> float:
        return 1.0

    @property
    def ops_per_cycle(self) -> int:
        return 1

    def warnings(self) -> list[str]:
        return []


@dataclass(frozen=True)
class LMulConfig(_FloatMulBase):
    """L-Mul in the float format ``(exp_bits, man_bits)``.

    Parameters
    ----------
    exp_bits : int, 2..11
    man_bits : int, 1..23
    finite_only : bool
        E4M3FN-style format: no infinity, S.1..1.1..1 is NaN (``e4m3``).
    norm : "carry" | "shift"
        ``carry``: one integer add of the (exponent, mantissa) fields (the paper's own emulation);
        ``shift``: the formula as written, halving a significand that reaches 2 and truncating.
    overflow : "inf" | "saturate"
    stages : int, 0..3
        Pipeline registers (0 = combinational).
    """

    norm: str = "carry"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice(type(self).__name__, "norm", self.norm, NORMS)

    @property
    def top_name(self) -> str:
        return unique_name(f"lmul_{self.format_name}_{self.norm}", self,
                           ("exp_bits", "man_bits", "finite_only", "norm"))

    def baseline(self) -> ExactFpMulConfig:
        return ExactFpMulConfig(self.exp_bits, self.man_bits, self.finite_only, self.overflow, self.stages)


@dataclass(frozen=True)
class ExactFpMulConfig(_FloatMulBase):
    """The correctly rounded (round to nearest, ties to even) multiplier with L-Mul's special-value rules.

    Parameters as :class:`LMulConfig`, without ``norm``.
    """

    @property
    def top_name(self) -> str:
        return unique_name(f"fpmul_{self.format_name}", self, ("exp_bits", "man_bits", "finite_only"))

    def baseline(self) -> None:
        return None
