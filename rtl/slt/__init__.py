"""SLT engine (Slim-Llama's sparsity-aware look-up table): S-LUTs in LUT and Buffer modes, zero skipping,
output reuse through weight clustering."""

from .column import SltColumn
from .config import SltConfig
from .engine import SlotArray, SltEngine

__all__ = ["SlotArray", "SltColumn", "SltConfig", "SltEngine"]
