"""Golden model of the ternary MAC array and its int8 baseline (spec: ``ternary_mac.md``, ``conventions.md``).

BitNet b1.58 (Ma et al., arXiv 2402.17764): weights are ternarized per tensor with absmean, activations are
quantized per token with absmax to int8, and the matrix product is exact integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .intmath import signed_bits_for, wrap_signed

#: 2-bit two's-complement ternary codes (conventions.md): 0b00 = 0, 0b01 = +1, 0b11 = -1; 0b10 is invalid.
TERNARY_CODE = {0: 0b00, 1: 0b01, -1: 0b11}
INVALID_TERNARY_CODE = 0b10


def quantize_weights_absmean(w: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, float]:
    """BitNet b1.58 weight quantizer: ``gamma = mean|W|``, ``W_t = clip(round(W / (gamma + eps)), -1, 1)``.

    Returns the ternary weights as int8 and the per-tensor scale ``gamma``.
    """
    w = np.asarray(w, dtype=np.float64)
    gamma = float(np.mean(np.abs(w)))
    return np.clip(np.rint(w / (gamma + eps)), -1, 1).astype(np.int8), gamma


def quantize_acts_absmax(x: np.ndarray, bits: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """BitNet b1.58 activation quantizer, per token (last axis): ``q = clip(round(x * Qp / max|x|), -Qn, Qp)``.

    With ``bits = 8``, ``Qp = 127`` and ``Qn = 128``. Returns int8/int16 activations and the per-token scale
    ``max|x| / Qp``; an all-zero token quantizes to zeros with scale 0.
    """
    x = np.asarray(x, dtype=np.float64)
    qp, qn = (1 << (bits - 1)) - 1, 1 << (bits - 1)
    amax = np.max(np.abs(x), axis=-1, keepdims=True)
    safe = np.where(amax == 0, 1.0, amax)
    q = np.clip(np.rint(x * qp / safe), -qn, qp)
    return q.astype(np.int8 if bits <= 8 else np.int16), (amax / qp)[..., 0]


def encode_ternary(w: np.ndarray) -> np.ndarray:
    """Ternary values in {-1, 0, +1} to their 2-bit codes (uint8)."""
    w = np.asarray(w)
    if not np.isin(w, (-1, 0, 1)).all():
        raise ValueError("ternary weights must be in {-1, 0, +1}")
    return (w.astype(np.int64) & 0b11).astype(np.uint8)


def decode_ternary(codes: np.ndarray) -> np.ndarray:
    """2-bit codes to {-1, 0, +1}; the code 0b10 is not a ternary value and raises ``ValueError``."""
    codes = np.asarray(codes).astype(np.int64)
    if ((codes < 0) | (codes > 3)).any():
        raise ValueError("ternary codes are 2-bit values 0..3")
    if (codes == INVALID_TERNARY_CODE).any():
        raise ValueError("ternary code 0b10 is not a ternary value")
    return np.where(codes == 3, -1, codes).astype(np.int8)


def product_range(act_bits: int, weight_kind: str) -> tuple[int, int]:
    """Smallest and largest single product ``x * w`` for signed ``act_bits`` activations."""
    amin, amax = -(1 << (act_bits - 1)), (1 << (act_bits - 1)) - 1
    if weight_kind == "ternary":
        return amin, -amin
    if weight_kind == "int8":
        wmin, wmax = -128, 127
        corners = [amin * wmin, amin * wmax, amax * wmin, amax * wmax]
        return min(corners), max(corners)
    raise ValueError(f"weight_kind must be 'ternary' or 'int8', got {weight_kind!r}")


def acc_bits_for(k: int, act_bits: int = 8, weight_kind: str = "ternary") -> int:
    """Smallest accumulator width that cannot overflow for a reduction of length ``k`` (conventions.md)."""
    lo, hi = product_range(act_bits, weight_kind)
    return signed_bits_for(k * lo, k * hi)


def gemm(x: np.ndarray, w: np.ndarray, acc_bits: int | None = None) -> np.ndarray:
    """Exact integer ``Y = X @ W`` (``X``: T x K activations, ``W``: K x N weights, both integer values).

    With ``acc_bits`` the result wraps to that two's-complement width, as a narrow accumulator does.
    """
    y = np.asarray(x, dtype=np.int64) @ np.asarray(w, dtype=np.int64)
    return y if acc_bits is None else wrap_signed(y, acc_bits)


def nonzero_macs(tokens: int, w: np.ndarray) -> int:
    """MACs that a zero-skipping array performs for ``tokens`` activation rows: one per non-zero weight each."""
    return int(tokens) * int(np.count_nonzero(np.asarray(w)))


@dataclass
class StreamPlan:
    """The beats a GEMM becomes on the array's streams, in order, and the output beats it must produce.

    ``weight_beats``: list of arrays (``weight_stationary``: one row of C weight values; ``weight_streaming``:
    a whole R x C tile). ``weight_ends``: per weight beat of ``weight_streaming``, whether it is the last tile
    of its block (the tiles that share one activation beat). ``act_beats``: list of ``(data[R], first, last,
    tile_end)``. ``out_beats``: list of ``C`` results. ``out_index``: the ``(token, column tile)`` of each
    output beat. ``nonzero_macs``: the non-zero-weight MACs the array performs for this plan.
    """

    weight_beats: list[np.ndarray] = field(default_factory=list)
    weight_ends: list[bool] = field(default_factory=list)
    act_beats: list[tuple[np.ndarray, bool, bool, bool]] = field(default_factory=list)
    out_beats: list[np.ndarray] = field(default_factory=list)
    out_index: list[tuple[int, int]] = field(default_factory=list)
    nonzero_macs: int = 0


def _pad_to(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.zeros((rows, cols), dtype=np.int64)
    out[: a.shape[0], : a.shape[1]] = a
    return out


def stream_plan(
    x: np.ndarray,
    w: np.ndarray,
    rows: int,
    cols: int,
    dataflow: str = "weight_stationary",
    max_tokens: int = 1,
    acc_bits: int | None = None,
    block_tiles: int = 1,
) -> StreamPlan:
    """Cut ``Y = X @ W`` into the array's beats (spec: ``ternary_mac.md``, "Dataflows and K larger than R").

    ``K`` and ``N`` are zero-padded up to multiples of ``rows`` and ``cols``; padded outputs are dropped by the
    caller (``out_beats`` keep all ``cols`` lanes). ``weight_stationary`` loops column tile, token block of up
    to ``max_tokens`` tokens, then k-tile: each k-tile's weights load once per token block and every token of
    the block streams through; ``first`` marks k-tile 0, ``last`` the final k-tile, ``tile_end`` the last
    token of the block. ``weight_streaming`` loops token, block of up to ``block_tiles`` column tiles, k-tile,
    then the column tiles of the block: each activation beat is followed by the R x C weight tiles of the block
    that use it (one with ``block_tiles = 1``, the MAC array's pairing), the last flagged in ``weight_ends``.
    """
    x = np.asarray(x, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    t_total, k = x.shape
    if w.shape[0] != k:
        raise ValueError(f"X is {x.shape} but W is {w.shape}: inner dimensions differ")
    n = w.shape[1]
    k_tiles, n_tiles = -(-k // rows), -(-n // cols)
    xp = _pad_to(x, t_total, k_tiles * rows)
    wp = _pad_to(w, k_tiles * rows, n_tiles * cols)
    y = gemm(xp, wp, acc_bits)
    plan = StreamPlan()

    def tile(i: int, j: int) -> np.ndarray:
        return wp[i * rows : (i + 1) * rows, j * cols : (j + 1) * cols]

    if dataflow == "weight_stationary":
        for j in range(n_tiles):
            for t0 in range(0, t_total, max_tokens):
                block = range(t0, min(t0 + max_tokens, t_total))
                for i in range(k_tiles):
                    plan.weight_beats.extend(tile(i, j))
                    nnz = int(np.count_nonzero(tile(i, j)))
                    for t in block:
                        data = xp[t, i * rows : (i + 1) * rows]
                        plan.act_beats.append((data, i == 0, i == k_tiles - 1, t == block[-1]))
                        plan.nonzero_macs += nnz
                for t in block:
                    plan.out_beats.append(y[t, j * cols : (j + 1) * cols])
                    plan.out_index.append((t, j))
    elif dataflow == "weight_streaming":
        if block_tiles < 1:
            raise ValueError(f"block_tiles must be at least 1, got {block_tiles}")
        for t in range(t_total):
            for j0 in range(0, n_tiles, block_tiles):
                block = range(j0, min(j0 + block_tiles, n_tiles))
                for i in range(k_tiles):
                    plan.act_beats.append((xp[t, i * rows : (i + 1) * rows], i == 0, i == k_tiles - 1, False))
                    for j in block:
                        plan.weight_beats.append(tile(i, j))
                        plan.weight_ends.append(j == block[-1])
                        plan.nonzero_macs += int(np.count_nonzero(tile(i, j)))
                for j in block:
                    plan.out_beats.append(y[t, j * cols : (j + 1) * cols])
                    plan.out_index.append((t, j))
    else:
        raise ValueError(f"dataflow must be 'weight_stationary' or 'weight_streaming', got {dataflow!r}")
    return plan
