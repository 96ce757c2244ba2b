"""Golden model of the LUT tensor core (spec: ``lut_tensor_core.md``; T-MAC arXiv 2407.00088, LUT Tensor Core
arXiv 2408.06003).

Everything is integer arithmetic on plain arrays. The model computes ``Y = X @ W`` the way the hardware does:
per token and group of ``g`` activations it builds the sign-symmetric half table, reads it with the weight
bit-plane indices (conditional negation for the mirrored half), recombines the planes with their powers of two
and adds the zero-point offset term. In exact mode (no ``table_bits``) the result equals the integer matmul,
which the tests check for every weight mode.

Internal scale: the hardware works on ``D = 2 * Y``, so that the halving of the symmetric decomposition

    sum_k w_k x_k = 1/2 sum_i 2^i (sum_k s_ik x_k) + ((2^b - 1)/2 - z) sum_k x_k,   s_ik = 2 q_ik - 1

is exact: ``D = sum_i 2^i S_i + c2 * sum_k x_k`` with ``c2 = 2^b - 1 - 2 z``, and ``Y = floor(D / 2)``.
Binary weights (``b = 1``, ``w = s``) have ``D = 2 S_0``; base-3 (ternary) groups have ``D = 2 * sum``.

Table quantization (``table_bits``): each stored entry ``T`` becomes ``floor(T / 2^s + 1/2)`` (round half up),
with ``s`` the smallest shift that makes the largest possible entry, ``g * 2^(act_bits - 1)``, fit in
``table_bits`` signed bits (:func:`table_shift`, a static power-of-two scale; T-MAC scales by
``max_group(sum |x|) / 127`` per tensor, which needs a divider). The mirrored half reads ``-quantized(T)``, and
plane sums are scaled back by ``2^s``, so that ``Y`` is in the units of the exact result.
"""

from __future__ import annotations

import numpy as np

from .intmath import signed_bits_for, wrap_signed
from .ternary import decode_ternary

WEIGHT_KINDS = ("int", "ternary")
TERNARY_PACKINGS = ("planes", "base3")


# --- weights -----------------------------------------------------------------------------------------------

def zero_point_of(weight_kind: str, weight_bits: int, zero_point: int | None) -> int | None:
    """The effective zero point ``z`` of the offset code ``q = w + z``: ternary is ``b = 2, z = 1``; an int
    weight without a zero point is two's complement, i.e. ``z = 2^(b-1)``; binary (``b = 1``) has none."""
    if weight_kind == "ternary":
        return 1
    if weight_bits == 1:
        return None
    return (1 << (weight_bits - 1)) if zero_point is None else zero_point


def weight_range(weight_kind: str, weight_bits: int, zero_point: int | None = None) -> tuple[int, int]:
    """The weight values a mode can represent."""
    if weight_kind == "ternary":
        return -1, 1
    if weight_bits == 1:
        return -1, 1  # binary {-1, +1}; 0 is not a binary value
    z = zero_point_of(weight_kind, weight_bits, zero_point)
    return -z, (1 << weight_bits) - 1 - z


def offset_codes(w: np.ndarray, weight_kind: str, weight_bits: int, zero_point: int | None = None) -> np.ndarray:
    """The unsigned codes ``q`` in ``[0, 2^b)`` whose bit-planes index the tables (binary: ``q = (w + 1) / 2``)."""
    w = np.asarray(w, dtype=np.int64)
    lo, hi = weight_range(weight_kind, weight_bits, zero_point)
    if ((w < lo) | (w > hi)).any():
        raise ValueError(f"weights must be in {lo}..{hi} for weight_kind={weight_kind}, weight_bits={weight_bits}")
    if weight_kind == "int" and weight_bits == 1:
        if (w == 0).any():
            raise ValueError("binary weights are -1 or +1, not 0")
        return (w + 1) // 2
    return w + zero_point_of(weight_kind, weight_bits, zero_point)


def encode_weights(w: np.ndarray, weight_kind: str, weight_bits: int, zero_point: int | None = None) -> np.ndarray:
    """The codes on the weight stream (conventions.md): ternary 2-bit codes (0b00 = 0, 0b01 = +1, 0b11 = -1),
    ``b``-bit two's complement for an int weight without zero point, ``w + z`` with one, ``0 -> -1, 1 -> +1``
    for binary."""
    w = np.asarray(w, dtype=np.int64)
    if weight_kind == "ternary":
        offset_codes(w, weight_kind, weight_bits)  # range check
        return w & 0b11
    q = offset_codes(w, weight_kind, weight_bits, zero_point)
    if weight_bits > 1 and zero_point is None:
        return w & ((1 << weight_bits) - 1)
    return q


def decode_weights(codes: np.ndarray, weight_kind: str, weight_bits: int, zero_point: int | None = None
                   ) -> np.ndarray:
    """Inverse of :func:`encode_weights` (ternary code 0b10 raises ``ValueError``)."""
    codes = np.asarray(codes, dtype=np.int64)
    if weight_kind == "ternary":
        return decode_ternary(codes).astype(np.int64)
    if weight_bits == 1:
        return 2 * codes - 1
    if zero_point is None:
        return np.where(codes >= 1 << (weight_bits - 1), codes - (1 << weight_bits), codes)
    return codes - zero_point


def plane_weight_offset(weight_kind: str, weight_bits: int, zero_point: int | None = None) -> int:
    """``c2 = 2^b - 1 - 2 z``: the offset term of ``D = 2 Y`` is ``c2 * sum(x)`` (0 for binary)."""
    z = zero_point_of(weight_kind, weight_bits, zero_point)
    return 0 if z is None else (1 << weight_bits) - 1 - 2 * z


# --- tables ------------------------------------------------------------------------------------------------

def sign_patterns(g: int) -> np.ndarray:
    """``(2^g, g)`` matrix of +-1: row ``j`` has ``+1`` in column ``t`` where bit ``t`` of ``j`` is set."""
    j = np.arange(1 << g)[:, None]
    return np.where((j >> np.arange(g)[None, :]) & 1, 1, -1)


def full_table(x_group: np.ndarray) -> np.ndarray:
    """``T[..., j] = sum_t (bit_t(j) ? +x_t : -x_t)`` over the last axis (``g`` activations)."""
    x_group = np.asarray(x_group, dtype=np.int64)
    return x_group @ sign_patterns(x_group.shape[-1]).T


def half_table(x_group: np.ndarray) -> np.ndarray:
    """The ``2^(g-1)`` stored entries: those whose top index bit is 0 (``T[~j] = -T[j]`` gives the rest)."""
    g = np.asarray(x_group).shape[-1]
    return full_table(x_group)[..., : 1 << (g - 1)]


def symmetric_read(half: np.ndarray, index: np.ndarray, g: int) -> np.ndarray:
    """Read entry ``index`` from stored half tables: a top bit of 1 reads ``-half[~index]``.

    ``half``: ``(..., 2^(g-1))``; ``index``: integer array broadcast against ``half[..., 0]``.
    """
    index = np.asarray(index, dtype=np.int64)
    top = (index >> (g - 1)) & 1
    low = np.where(top == 1, ~index, index) & ((1 << (g - 1)) - 1)
    shape = np.broadcast_shapes(np.shape(half)[:-1], low.shape)
    half = np.broadcast_to(half, shape + np.shape(half)[-1:])
    value = np.take_along_axis(half, np.broadcast_to(low, shape)[..., None], axis=-1)[..., 0]
    return np.where(top == 1, -value, value)


def entry_range(act_bits: int, g: int) -> tuple[int, int]:
    """Smallest and largest table entry: ``g`` activations at ``-2^(act_bits-1)`` with either sign."""
    m = g << (act_bits - 1)
    return -m, m


def entry_bits(act_bits: int, g: int) -> int:
    """Signed width of an exact table entry (``act_bits + ceil(log2 g) + 1``: +-g*2^(a-1) both occur)."""
    return signed_bits_for(*entry_range(act_bits, g))


def round_shift(values: np.ndarray, shift: int) -> np.ndarray:
    """``floor(v / 2^shift + 1/2)``: round half up, the rounding of the quantized tables."""
    values = np.asarray(values, dtype=np.int64)
    if shift == 0:
        return values
    return (values + (1 << (shift - 1))) >> shift


def table_shift(act_bits: int, g: int, table_bits: int | None) -> int:
    """The static scale ``2^s`` of quantized entries: the smallest ``s`` with every possible entry, rounded,
    inside ``table_bits`` signed bits (0 without quantization)."""
    if table_bits is None:
        return 0
    lo, hi = entry_range(act_bits, g)
    shift = 0
    while not (-(1 << (table_bits - 1)) <= round_shift(lo, shift) and round_shift(hi, shift) < 1 << (table_bits - 1)):
        shift += 1
    return shift


# --- base-3 packing (bitnet.cpp TL1/TL2 style) -------------------------------------------------------------

def base3_magnitude_max(g: int) -> int:
    """Largest ``|v|`` of ``v = sum_t 3^t w_t`` over ``g`` ternary weights: ``(3^g - 1) / 2``."""
    return (3 ** g - 1) // 2


def base3_mag_bits(g: int) -> int:
    return base3_magnitude_max(g).bit_length()


def balanced_digits(values: np.ndarray, g: int) -> np.ndarray:
    """The ``g`` balanced-ternary digits (in {-1, 0, 1}, least significant first) of each value."""
    v = np.asarray(values, dtype=np.int64).copy()
    digits = []
    for _ in range(g):
        d = ((v + 1) % 3) - 1
        digits.append(d)
        v = (v - d) // 3
    if (v != 0).any():
        raise ValueError(f"value out of the range of {g} balanced-ternary digits")
    return np.stack(digits, axis=-1)


def pack_base3(w_groups: np.ndarray) -> np.ndarray:
    """``(..., g)`` ternary weights to stream codes ``sign << mag_bits | |v|`` with ``v = sum_t 3^t w_t``
    (TL2 stores ``|v|`` and a sign bit: 5 bits per 3 weights; at ``g = 2`` this is TL1's 9 indices in 4 bits)."""
    w_groups = np.asarray(w_groups, dtype=np.int64)
    g = w_groups.shape[-1]
    if not np.isin(w_groups, (-1, 0, 1)).all():
        raise ValueError("ternary weights must be in {-1, 0, +1}")
    v = w_groups @ (3 ** np.arange(g))
    return ((v < 0).astype(np.int64) << base3_mag_bits(g)) | np.abs(v)


def unpack_base3(codes: np.ndarray, g: int) -> np.ndarray:
    """Stream codes back to ``(..., g)`` ternary weights (a magnitude above ``(3^g-1)/2`` raises ``ValueError``)."""
    codes = np.asarray(codes, dtype=np.int64)
    mag = codes & ((1 << base3_mag_bits(g)) - 1)
    if (mag > base3_magnitude_max(g)).any():
        raise ValueError(f"base-3 magnitude above {base3_magnitude_max(g)} is not a code of {g} ternary weights")
    sign = (codes >> base3_mag_bits(g)) & 1
    return balanced_digits(np.where(sign == 1, -mag, mag), g)


def base3_table(x_group: np.ndarray) -> np.ndarray:
    """``E[..., m] = sum_t d_t(m) x_t`` for ``m`` in ``0..(3^g-1)/2`` (digits ``d`` balanced ternary)."""
    x_group = np.asarray(x_group, dtype=np.int64)
    g = x_group.shape[-1]
    return x_group @ balanced_digits(np.arange(base3_magnitude_max(g) + 1), g).T


# --- the core's arithmetic ---------------------------------------------------------------------------------

def _groups(a: np.ndarray, g: int, axis: int) -> np.ndarray:
    """Zero-pad ``axis`` (K) to a multiple of ``g`` and split it into (groups, g)."""
    a = np.asarray(a, dtype=np.int64)
    k = a.shape[axis]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, -k % g)
    a = np.pad(a, pad)
    shape = list(a.shape)
    shape[axis : axis + 1] = [shape[axis] // g, g]
    return a.reshape(shape)


def _tile_groups(a: np.ndarray, k_tile: int, g: int, axis: int) -> np.ndarray:
    """Split K (``axis``, a multiple of ``k_tile``) into tiles and zero-pad every tile to whole groups of
    ``g``, as the core does: a group never spans two tiles."""
    a = np.moveaxis(np.asarray(a, dtype=np.int64), axis, 0)
    per_tile = -(-k_tile // g) * g
    tiles = a.reshape((-1, k_tile) + a.shape[1:])
    padded = np.zeros((tiles.shape[0], per_tile) + a.shape[1:], dtype=np.int64)
    padded[:, :k_tile] = tiles
    return np.moveaxis(padded.reshape((-1,) + a.shape[1:]), 0, axis)


def lut_matmul(x: np.ndarray, w: np.ndarray, g: int = 4, weight_kind: str = "int", weight_bits: int = 2,
               zero_point: int | None = None, ternary_packing: str = "planes", table_bits: int | None = None,
               act_bits: int = 8, acc_bits: int | None = None, k_tile: int | None = None) -> np.ndarray:
    """``Y = X @ W`` (``X``: T x K signed activations, ``W``: K x N weight values) through tables and lookups.

    Exact (equal to the integer matmul) when ``table_bits`` is None; with ``table_bits`` the tables are
    quantized as the module docstring defines, and the result depends on which activations share a group:
    groups are formed over the whole K, or, with ``k_tile``, within each tile of ``k_tile`` lanes (the core's
    grouping: a partial last group per tile). With ``acc_bits`` the result wraps like the accumulator.
    """
    if weight_kind not in WEIGHT_KINDS:
        raise ValueError(f"weight_kind must be one of {WEIGHT_KINDS}, got {weight_kind!r}")
    if ternary_packing not in TERNARY_PACKINGS:
        raise ValueError(f"ternary_packing must be one of {TERNARY_PACKINGS}, got {ternary_packing!r}")
    x = np.asarray(x, dtype=np.int64)
    w = np.asarray(w, dtype=np.int64)
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"X is {x.shape} but W is {w.shape}: inner dimensions differ")
    base3 = weight_kind == "ternary" and ternary_packing == "base3"
    # Lanes that pad a group carry zero activations and index bits 0 (base 3: weight digits 0); lanes that
    # complete the last tile are ordinary lanes with zero activations and weight 0 (binary: +1).
    k_tile = k_tile or x.shape[1]
    k_pad = -x.shape[1] % k_tile
    x = np.pad(x, ((0, 0), (0, k_pad)))
    w = np.pad(w, ((0, k_pad), (0, 0)), constant_values=1 if weight_kind == "int" and weight_bits == 1 else 0)
    x = _tile_groups(x, k_tile, g, 1)
    shift = table_shift(act_bits, g, table_bits)
    xg = _groups(x, g, axis=1)  # T, G, g
    if base3:
        codes = pack_base3(np.moveaxis(_groups(_tile_groups(w, k_tile, g, 0), g, axis=0), 1, 2))  # G, N
        mag = codes & ((1 << base3_mag_bits(g)) - 1)
        sign = codes >> base3_mag_bits(g)
        table = round_shift(base3_table(xg), shift)  # T, G, M+1
        values = np.take_along_axis(np.broadcast_to(table[:, :, None, :], table.shape[:2] + mag.shape[1:]
                                                    + table.shape[2:]),
                                    np.broadcast_to(mag, (x.shape[0],) + mag.shape)[..., None], axis=-1)[..., 0]
        d = 2 * (np.where(sign == 1, -values, values).sum(axis=1) << shift)
    else:
        q = _groups(_tile_groups(offset_codes(w, weight_kind, weight_bits, zero_point), k_tile, g, 0), g, axis=0)
        half = round_shift(half_table(xg), shift)  # T, G, 2^(g-1); q: G, g, N
        d = plane_weight_offset(weight_kind, weight_bits, zero_point) * x.sum(axis=1)[:, None]
        for i in range(weight_bits):
            index = (((q >> i) & 1) << np.arange(g)[None, :, None]).sum(axis=1)  # G, N
            reads = symmetric_read(half[:, :, None, :], index[None, :, :], g)  # T, G, N
            d = d + ((reads.sum(axis=1) << shift) << i)
        if weight_kind == "int" and weight_bits == 1:
            d = 2 * d
    y = d >> 1
    return y if acc_bits is None else wrap_signed(y, acc_bits)


def acc_bits_for(k: int, act_bits: int, weight_kind: str, weight_bits: int, zero_point: int | None = None) -> int:
    """Smallest output width that cannot overflow for a reduction of ``k`` exact products."""
    amin, amax = -(1 << (act_bits - 1)), (1 << (act_bits - 1)) - 1
    wlo, whi = weight_range(weight_kind, weight_bits, zero_point)
    corners = [a * w for a in (amin, amax) for w in (wlo, whi)]
    return signed_bits_for(k * min(corners), k * max(corners))


def table_error(g: int = 4, table_bits: int = 8, act_bits: int = 8, k: int = 256, n: int = 64, tokens: int = 64,
                weight_kind: str = "ternary", weight_bits: int = 2, seed: int = 0) -> dict[str, float]:
    """Error of quantized tables on BitNet-like data: Gaussian activations quantized per token with absmax,
    absmean-ternarized (or uniform int) Gaussian weights. Returns the mean and max absolute error of ``Y`` in
    units of the exact result and relative to its RMS."""
    from .ternary import quantize_acts_absmax, quantize_weights_absmean

    rng = np.random.default_rng(seed)
    x, _ = quantize_acts_absmax(rng.normal(size=(tokens, k)), act_bits)
    if weight_kind == "ternary":
        w, _ = quantize_weights_absmean(rng.normal(size=(k, n)))
    else:
        lo, hi = weight_range(weight_kind, weight_bits)
        w = rng.integers(lo, hi + 1, size=(k, n))
    exact = x.astype(np.int64) @ w.astype(np.int64)
    approx = lut_matmul(x, w, g, weight_kind, weight_bits, table_bits=table_bits, act_bits=act_bits)
    err = np.abs(approx - exact)
    rms = float(np.sqrt(np.mean(exact.astype(np.float64) ** 2)))
    return {"g": g, "table_bits": table_bits, "shift": table_shift(act_bits, g, table_bits),
            "mean_abs_error": float(err.mean()), "max_abs_error": int(err.max()),
            "mean_error_over_rms": float(err.mean()) / rms, "k": k}
