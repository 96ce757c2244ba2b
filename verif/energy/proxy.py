"""The SLT study's counted energy proxy (:func:`golden.slt.slt_energy`, :func:`golden.slt.mac_energy`: additions,
S-LUT reads and register writes under unit weights) against the energy measured on the same stimuli
(``energy.md`` item 4): does it rank the designs as the measurement does, and which weights would make it fit?

For every SLT comparison row the golden models rerun the stimulus each design received and count its events; a
fit by non-negative least squares then gives each event its energy in pJ, plus one energy per cycle for each
design (its clock tree and the registers that are clocked whether their data changes or not, which the proxy
has no term for)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from gen.presets import design
from golden import slt
from verif.slt import bench as slt_bench

from .compare import REORDERED, Comparison

EVENTS = ("addition", "read", "write")


def _events(preset: str, data: dict[str, np.ndarray], reorder: bool) -> tuple[dict[str, float], float]:
    """The event counts of one design on one stimulus (:func:`golden.slt.slt_events`,
    :func:`golden.slt.mac_events`), and its unit-weight proxy."""
    cfg = dataclasses.asdict(design(preset).config)
    if "lanes" in cfg:
        p = slt_bench.params(cfg)
        _, cnt, _ = slt.gemv(data["w"], data["x"], p, reorder=reorder)
        events = slt.slt_events(cnt, p)
    else:
        mac = slt.mac_gemv(np.asarray(data["w"]).T, data["x"].shape[0], cfg["rows"], cfg["cols"])
        events = slt.mac_events(mac, cfg["rows"], cfg["cols"])
    return {k: float(v) for k, v in events.items()}, slt.proxy_energy(events)


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares with non-negative coefficients (active set: drop the most negative and refit)."""
    free = list(range(a.shape[1]))
    while True:
        x = np.zeros(a.shape[1])
        x[free] = np.linalg.lstsq(a[:, free], b, rcond=None)[0]
        if (x >= 0).all():
            return x
        free.remove(int(np.argmin(x)))


def _ranks(v: list[float]) -> np.ndarray:
    return np.argsort(np.argsort(v))


def analyse(summary: dict[str, Any], comps: list[Comparison]) -> dict[str, Any] | None:
    """The proxy against the measurement over every SLT comparison of ``summary`` (None if there is none)."""
    measured = {c["name"]: c for c in summary["comparisons"]}
    points = []
    for comp in comps:
        if not comp.name.startswith("slt") or comp.name not in measured:
            continue
        rows = {r["stimulus"]: r for r in measured[comp.name]["rows"]}
        for stim in comp.stimuli:
            row = rows.get(stim.label)
            for name in comp.designs if row else ():
                report = row["designs"][name]
                if "energy_pj" not in report:
                    continue
                preset = name.removesuffix(REORDERED)
                data, _ = stim.make(dataclasses.asdict(design(preset).config))
                counts, proxy = _events(preset, data, name.endswith(REORDERED))
                point = {"design": name, "stimulus": stim.label, "sparsity": stim.sparsity, "counts": counts,
                         "cycles": report["cycles"], "measured_pj": report["energy_pj"], "proxy": proxy}
                if point not in points:
                    points.append(point)
    if not points:
        return None
    names = sorted({p["design"] for p in points})
    netlists = sorted({n.removesuffix(REORDERED) for n in names})  # reordering changes the stream, not the netlist
    a = np.array([[p["counts"][e] for e in EVENTS]
                  + [p["cycles"] * (p["design"].removesuffix(REORDERED) == n) for n in netlists] for p in points])
    b = np.array([p["measured_pj"] for p in points])
    x = _nnls(a, b)
    fitted = a @ x
    for p, f in zip(points, fitted, strict=True):
        p["fitted_pj"] = round(float(f), 1)
    # Rank agreement: pairs of designs on one stimulus ordered alike; within each design, across stimuli.
    agree, total = 0, 0
    for stim in sorted({p["stimulus"] for p in points}):
        group = [p for p in points if p["stimulus"] == stim]
        for i, one in enumerate(group):
            for other in group[i + 1:]:
                total += 1
                agree += (one["proxy"] > other["proxy"]) == (one["measured_pj"] > other["measured_pj"])
    spearman = {}
    for n in names:
        group = [p for p in points if p["design"] == n]
        if len(group) > 2:
            rp, rm = _ranks([p["proxy"] for p in group]), _ranks([p["measured_pj"] for p in group])
            spearman[n] = round(float(np.corrcoef(rp, rm)[0, 1]), 3)
    unit = np.array([p["proxy"] for p in points])
    scale = float(unit @ b / (unit @ unit))  # the unit proxy at its best single pJ scale
    return {
        "points": points,
        "pairs_ordered_alike": [agree, total],
        "spearman_across_stimuli": spearman,
        "unit_proxy_pj_per_unit": round(scale, 4),
        "unit_proxy_max_error": round(float(np.max(np.abs(scale * unit - b) / b)), 4),
        "fit_pj": {**{e: round(float(v), 4) for e, v in zip(EVENTS, x, strict=False)},
                   **{f"cycle:{n}": round(float(v), 3) for n, v in zip(netlists, x[len(EVENTS):], strict=True)}},
        "fit_max_error": round(float(np.max(np.abs(fitted - b) / b)), 4),
    }


def markdown(result: dict[str, Any]) -> list[str]:
    fit = result["fit_pj"]
    agree, total = result["pairs_ordered_alike"]
    lines = ["## The SLT study's energy proxy against the measurement", "",
             "Unit-weight proxy (addition 1, S-LUT read 0.5, register write 1; no clock term): of the "
             f"{total} pairs of designs on one stimulus it orders {agree} as measured; scaled by its best single "
             f"factor ({result['unit_proxy_pj_per_unit']:.3g} pJ a unit) it is off by up to "
             f"{result['unit_proxy_max_error']:.0%}."
             + (" Rank correlation across stimuli, per design: "
                + ", ".join(f"{n} {v:+.2f}" for n, v in result["spearman_across_stimuli"].items()) + "."
                if result["spearman_across_stimuli"] else ""), "",
             "Refit (non-negative least squares over every measured point): "
             + ", ".join(f"{e} {fit[e]:.3g} pJ" for e in EVENTS) + "; per cycle "
             + ", ".join(f"{k.split(':', 1)[1]} {v:.4g} pJ" for k, v in fit.items() if k.startswith("cycle:"))
             + f"; largest error {result['fit_max_error']:.1%}.", "",
             "| design | stimulus | measured pJ | refit pJ | unit proxy |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {p['design']} | {p['stimulus']} | {p['measured_pj']:.0f} | {p['fitted_pj']:.0f} | "
              f"{p['proxy']:.0f} |" for p in result["points"]]
    return lines + [""]
