"""Ternary MAC array (BitNet b1.58) and its int8 multiply-accumulate baseline: one generator, two kinds."""

from .array import MacArray
from .config import MacArrayConfig

__all__ = ["MacArray", "MacArrayConfig"]
