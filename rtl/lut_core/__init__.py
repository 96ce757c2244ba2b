"""LUT tensor core (T-MAC / LUT Tensor Core): table precompute, symmetric lookup, bit-serial weight planes."""

from .config import LutCoreConfig
from .core import LookupArray, LutCore

__all__ = ["LookupArray", "LutCore", "LutCoreConfig"]
