"""Run the flows over presets and write ``build/synth/<preset>/<flow>.json`` with ratios to the baseline."""

from __future__ import annotations

import json
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gen.presets import Design

from .flows import RUNNERS, FlowSkipped
from .tools import ToolError

#: Report keys compared with the baseline, and whether a larger value is better.
RATIO_KEYS = {"nand2_eq": False, "logic_depth": False, "luts": False, "carry_cells": False, "ffs": False,
              "area_um2": False, "critical_path_ns": False, "fmax_mhz": True, "ops_per_cycle_per_kge": True}


def run_flow(design: Design, flow: str, out_root: Path) -> dict[str, Any]:
    """One flow on one design; a missing tool gives ``skipped``, a tool failure ``error`` (never raises)."""
    work = (out_root / design.name / flow).resolve()
    try:
        report = RUNNERS[flow](design, work)
    except FlowSkipped as exc:
        report = {"preset": design.name, "block": design.block.name, "flow": flow, "skipped": str(exc)}
    except (ToolError, OSError, ValueError, KeyError) as exc:
        report = {"preset": design.name, "block": design.block.name, "flow": flow,
                  "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=3)}
    path = out_root / design.name / f"{flow}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def ratios(report: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key in RATIO_KEYS:
        mine, theirs = report.get(key), baseline.get(key)
        if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)) and theirs:
            out[key] = round(mine / theirs, 3)
    return out


def _usable(by_key: dict[tuple[str, str], dict[str, Any]], name: str | None, flow: str) -> dict[str, Any] | None:
    other = by_key.get((name, flow))
    return other if other and "error" not in other and "skipped" not in other else None


def run_all(designs: list[Design], flows: list[str], out_root: Path, jobs: int = 2,
            progress: Any = print) -> list[dict[str, Any]]:
    """Every (design, flow) pair, ``jobs`` at a time; then ``ratio_to_baseline`` and ``ratio_to`` (the
    presets named in ``compare``) from this same run."""
    tasks = [(d, f) for d in designs for f in flows]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_flow, d, f, out_root) for d, f in tasks]
        reports = []
        for (d, f), future in zip(tasks, futures, strict=True):
            report = future.result()
            state = "skipped: " + report["skipped"] if "skipped" in report else report.get("error", "ok")
            progress(f"{d.name:28} {f:8} {state.splitlines()[0]}")
            reports.append(report)
    return attach_ratios(reports, out_root)


def attach_ratios(reports: list[dict[str, Any]], out_root: Path) -> list[dict[str, Any]]:
    """Add ``ratio_to_baseline`` and ``ratio_to`` to every report whose baseline or compared presets are among
    ``reports`` (one run's), and rewrite those reports' JSON under ``out_root``."""
    by_key = {(r["preset"], r["flow"]): r for r in reports}
    for report in reports:
        if "error" in report or "skipped" in report:
            continue
        base = _usable(by_key, report.get("baseline"), report["flow"])
        if base:
            report["ratio_to_baseline"] = ratios(report, base)
        others = {name: ratios(report, other) for name in report.get("compare", [])
                  if (other := _usable(by_key, name, report["flow"]))}
        if others:
            report["ratio_to"] = others
        if base or others:
            path = out_root / report["preset"] / f"{report['flow']}.json"
            path.write_text(json.dumps(report, indent=2) + "\n")
    return reports
