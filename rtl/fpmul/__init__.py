"""Float multipliers: L-Mul (Luo and Sun 2024) and its exact round-to-nearest-even baseline."""

from .config import ExactFpMulConfig, LMulConfig
from .dot import FpDot, FpDotConfig
from .exact import ExactFpMul
from .lmul import LMul

__all__ = ["ExactFpMul", "ExactFpMulConfig", "FpDot", "FpDotConfig", "LMul", "LMulConfig"]
