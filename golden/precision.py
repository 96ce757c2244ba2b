"""The L-Mul precision study of ``lmul.md``: in-format error, and the paper's comparison with fp8.

``python -m golden.precision`` writes ``build/report/precision.json`` and ``precision.md``. Every number is a
relative error ``|result - reference| / |reference|`` against float64.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from .dot import dot
from .fp import FORMATS, FloatFormat, decode, fields, round_to_format
from .lmul import exact_mul, lmul

PAPER_WIDTHS = range(2, 8)  # L-Mul mantissa widths the paper evaluates, inside an 8-bit exponent field
KINDS = ("lmul-carry", "lmul-shift", "exact")


def _multiply(kind: str, a: np.ndarray, b: np.ndarray, f: FloatFormat) -> np.ndarray:
    if kind == "exact":
        return exact_mul(a, b, f)
    return lmul(a, b, f, norm=kind.split("-")[1])


def _stats(rel: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(rel)), "max": float(np.max(rel)), "count": int(rel.size)}


def in_format_error(f: FloatFormat, kind: str, pairs: int, rng: np.random.Generator) -> dict[str, Any]:
    """Question 1: operands already in the format (all pairs of normal 8-bit operands, else ``pairs`` random
    ones); only pairs whose exact product is a normal number are averaged, the others are counted."""
    if f.width <= 8:
        a, b = (g.ravel() for g in np.meshgrid(np.arange(1 << f.width), np.arange(1 << f.width)))
    else:
        a, b = rng.integers(0, 1 << f.width, size=(2, pairs))
    _, ea, _ = fields(a, f)
    _, eb, _ = fields(b, f)
    normal = (ea > 0) & (eb > 0) & ~np.isnan(decode(a, f)) & ~np.isnan(decode(b, f))
    normal &= np.isfinite(decode(a, f)) & np.isfinite(decode(b, f))
    a, b = a[normal], b[normal]
    exact = decode(a, f) * decode(b, f)
    in_range = (np.abs(exact) >= f.min_normal) & (np.abs(exact) <= f.max_finite)
    got = decode(_multiply(kind, a[in_range], b[in_range], f), f)
    # an approximate product can leave the range its exact product is in: counted, not averaged
    escaped_high = ~np.isfinite(got) | ((np.abs(got) == f.max_finite) & (np.abs(exact[in_range]) < f.max_finite))
    escaped_low = got == 0
    kept = ~escaped_high & ~escaped_low
    rel = np.abs(got[kept] - exact[in_range][kept]) / np.abs(exact[in_range][kept])
    return {**_stats(rel), "overflowed": int((np.abs(exact) > f.max_finite).sum()),
            "flushed": int((np.abs(exact) < f.min_normal).sum()),
            "result_overflowed": int(escaped_high.sum()), "result_flushed": int(escaped_low.sum())}


def paper_comparison(pairs: int, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    """Question 2: N(0, 1) operands rounded to the format, multiplied there, against the float64 product of the
    unrounded operands (quantization and arithmetic together, as the paper measures)."""
    x, y = rng.standard_normal(size=(2, pairs))
    reference = x * y
    rows: dict[str, dict[str, Any]] = {}

    def measure(label: str, f: FloatFormat, kind: str) -> None:
        a, b = (_quantize(v, f) for v in (x, y))
        got = decode(_multiply(kind, a, b, f), f)
        rel = np.abs(got - reference) / np.abs(reference)
        nonzero = got != 0
        rows[label] = {**_stats(rel), "flushed": int((~nonzero).sum()), "format": f"e{f.exp_bits}m{f.man_bits}",
                       "mean_unflushed": float(np.mean(rel[nonzero]))}

    for m in PAPER_WIDTHS:
        for norm in ("carry", "shift"):
            measure(f"L-Mul m={m} ({norm})", FloatFormat(8, m), f"lmul-{norm}")
    measure("e4m3 x e4m3 (RNE)", FORMATS["e4m3"], "exact")
    measure("e5m2 x e5m2 (RNE)", FORMATS["e5m2"], "exact")
    return rows


def _quantize(x: np.ndarray, f: FloatFormat) -> np.ndarray:
    """Round to the format (RNE); below the smallest normal to signed zero, above the largest to the largest."""
    tiny = np.abs(x) < f.min_normal
    clipped = np.clip(x, -f.max_finite, f.max_finite)
    bits = round_to_format(np.where(tiny, f.min_normal, clipped), f)
    bits = np.where(bits < 0, f.max_finite_bits | ((x < 0).astype(np.int64) << (f.width - 1)), bits)
    return np.where(tiny, (x < 0).astype(np.int64) << (f.width - 1), bits)


def dot_error(lengths: tuple[int, ...] = (128, 1024), rows: int = 200, lanes: int = 8,
              rng: np.random.Generator | None = None) -> dict[str, dict[str, Any]]:
    """Dot products of N(0, 1) vectors rounded to bf16, through the dot-product unit's model (8 lanes, fp32
    accumulator), against the float64 dot product of the unrounded vectors. The error is relative to
    ``sum |x_i y_i|`` (a dot product can cancel to near zero, where a plain relative error means nothing)."""
    rng = rng or np.random.default_rng(0)
    f, acc = FORMATS["bf16"], FORMATS["fp32"]
    out = {}
    for k in lengths:
        x, y = rng.standard_normal(size=(2, rows, k))
        reference, scale = np.sum(x * y, axis=1), np.sum(np.abs(x * y), axis=1)
        a, b = _quantize(x, f), _quantize(y, f)
        for label, multiplier, norm in (("L-Mul (carry)", "lmul", "carry"), ("L-Mul (shift)", "lmul", "shift"),
                                        ("exact bf16", "exact", "carry")):
            got = decode(dot(a, b, f, lanes, acc, multiplier, norm), acc)
            rel = np.abs(got - reference) / scale
            out[f"K={k} {label}"] = _stats(rel)
    return out


def study(pairs: int = 1_000_000, seed: int = 2024) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    formats = {**{name: FORMATS[name] for name in ("e4m3", "e5m2", "bf16", "fp16", "fp32")},
               **{f"e8m{m}": FloatFormat(8, m) for m in PAPER_WIDTHS}}
    in_format = {name: {kind: in_format_error(f, kind, pairs, rng) for kind in KINDS}
                 for name, f in formats.items()}
    paper = paper_comparison(pairs, rng)
    return {"pairs": pairs, "seed": seed, "in_format": in_format, "paper_comparison": paper,
            "claims": claims(paper), "dot_products": dot_error(rng=rng)}


def claims(paper: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The paper's two headline claims, judged on mean relative error in question 2, per norm mode."""
    e4m3, e5m2 = paper["e4m3 x e4m3 (RNE)"]["mean"], paper["e5m2 x e5m2 (RNE)"]["mean"]
    out = {}
    for norm in ("carry", "shift"):
        m4, m3 = paper[f"L-Mul m=4 ({norm})"]["mean"], paper[f"L-Mul m=3 ({norm})"]["mean"]
        out[norm] = {
            "m4_vs_e4m3": {"lmul": m4, "fp8": e4m3, "ratio": m4 / e4m3, "holds": bool(m4 <= 1.1 * e4m3)},
            "m3_better_than_e5m2": {"lmul": m3, "fp8": e5m2, "ratio": m3 / e5m2, "holds": bool(m3 < e5m2)},
        }
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = ["# L-Mul precision study", "",
             f"Relative error against float64; {result['pairs']:,} random pairs for formats wider than 8 bits "
             f"(all pairs of normal operands for 8-bit formats); seed {result['seed']}.", "",
             "## 1. In-format error (operands already in the format, normal results only)", "",
             "| format | " + " | ".join(f"{k} mean | {k} max" for k in KINDS) + " | averaged pairs | "
             "exact product out of range | L-Mul (carry/shift) left the range |",
             "|---|" + "---|---|" * len(KINDS) + "---|---|---|"]
    for name, row in result["in_format"].items():
        cells = " | ".join(f"{row[k]['mean']:.4f} | {row[k]['max']:.4f}" for k in KINDS)
        out = row["exact"]["overflowed"] + row["exact"]["flushed"]
        left = "/".join(str(row[k]["result_overflowed"] + row[k]["result_flushed"]) for k in KINDS[:2])
        lines.append(f"| {name} | {cells} | {row['exact']['count']:,} | {out:,} | {left} |")
    lines += ["", "## 2. The paper's comparison (N(0,1) operands rounded to the format, against float64)", "",
              "| multiplier | format | mean | max | results flushed to 0 | mean without flushed |",
              "|---|---|---|---|---|---|"]
    for label, row in result["paper_comparison"].items():
        lines.append(f"| {label} | {row['format']} | {row['mean']:.4f} | {row['max']:.4f} | {row['flushed']:,} "
                     f"| {row['mean_unflushed']:.4f} |")
    lines += ["", "## Dot products (bf16 operands from N(0,1), 8 lanes, fp32 accumulator; error / sum|x*y|)", "",
              "| case | mean | max |", "|---|---|---|"]
    for label, row in result["dot_products"].items():
        lines.append(f"| {label} | {row['mean']:.2e} | {row['max']:.2e} |")
    lines += ["", "## The paper's claims (question 2, mean relative error)", ""]
    for norm, c in result["claims"].items():
        a, b = c["m4_vs_e4m3"], c["m3_better_than_e5m2"]
        lines.append(f"- norm = {norm}: 4-bit-mantissa L-Mul {a['lmul']:.4f} vs e4m3 {a['fp8']:.4f} "
                     f"(ratio {a['ratio']:.2f}: {'holds' if a['holds'] else 'does not hold'}, the claim being "
                     f"an error no worse than e4m3's within 10 %); "
                     f"3-bit-mantissa L-Mul {b['lmul']:.4f} vs e5m2 {b['fp8']:.4f} "
                     f"({'better: holds' if b['holds'] else 'not better: does not hold'}).")
    e4m3 = result["paper_comparison"]["e4m3 x e4m3 (RNE)"]
    lines += ["", f"Much of e4m3's error in question 2 is flush-to-zero: {e4m3['flushed']:,} of {result['pairs']:,} "
              f"products (|x y| below 2^-6, or an operand below it) become 0; without them its mean is "
              f"{e4m3['mean_unflushed']:.4f}. In question 1 (no quantization) exact e4m3 is better than every L-Mul."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golden.precision", description=__doc__)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("build/report"))
    args = parser.parse_args(argv)
    result = study(args.pairs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "precision.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "precision.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
