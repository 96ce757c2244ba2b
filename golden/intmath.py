"""Integer helpers shared by the golden models (two's-complement wrapping and width bounds)."""

from __future__ import annotations

import numpy as np


def wrap_signed(values: np.ndarray | int, bits: int) -> np.ndarray:
    """Reduce integers to ``bits``-wide two's complement, as a register of that width holds them."""
    if bits < 1:
        raise ValueError(f"bits must be >= 1, got {bits}")
    v = np.asarray(values, dtype=object if bits > 62 else np.int64)
    half = 1 << (bits - 1)
    return ((v + half) % (1 << bits)) - half


def signed_bits_for(lo: int, hi: int) -> int:
    """Smallest two's-complement width that holds every integer in ``lo..hi``."""
    if lo > hi:
        raise ValueError(f"empty range {lo}..{hi}")
    bits = 1
    while not (-(1 << (bits - 1)) <= lo and hi <= (1 << (bits - 1)) - 1):
        bits += 1
    return bits
