"""The energy summary as Markdown and plots (energy per operation against weight sparsity; against area)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synth.energy import CLASSES
from synth.report import _axes, _finish

SHORT = {"datapath": "datapath", "accumulators": "acc.", "control": "control",
         "registers_and_clock": "regs + clock", "leakage": "leakage"}


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def markdown(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = ["# Energy per operation", "",
             f"Netlists: {meta['target']}. Window and stimulus per row; ops: MACs (zero weights included) for the "
             "arrays and the LUT core, weights processed for the SLT engine, products for the multipliers and the "
             "dot units. Every ratio is taken between designs measured on the same stimulus in this run; below 1 "
             "the first design uses less energy per operation.", ""]
    for comp in summary["comparisons"]:
        base = comp["designs"][1:]
        lines += [f"## {comp['title']}", "",
                  "| stimulus | " + " | ".join(f"{p} pJ/op" for p in comp["designs"]) + " | "
                  + " | ".join(f"ratio to {p}" for p in base) + f" | {comp['designs'][0]} split (share) | "
                  "clock share |",
                  "| --- " * (len(comp["designs"]) + len(base) + 3) + "|"]
        for row in comp["rows"]:
            first = row["designs"][comp["designs"][0]]
            split = first.get("split", {})
            total = sum(split.values()) or 1.0
            shares = ", ".join(f"{SHORT[c]} {split.get(c, 0.0) / total:.0%}" for c in CLASSES if c in split)
            cells = [_fmt(row["designs"][p].get("pj_per_op"), 4) if "error" not in row["designs"][p] else "error"
                     for p in comp["designs"]]
            ratios = [_fmt(row.get("ratio", {}).get(p)) for p in base]
            lines.append(f"| {row['stimulus']} | " + " | ".join(cells + ratios) + f" | {shares or '-'} | "
                         f"{_fmt(first.get('clock_share'), 2)} |")
        errors = [f"{p} on {row['stimulus']}: {d['error'].splitlines()[0]}" for row in comp["rows"]
                  for p, d in row["designs"].items() if "error" in d]
        notes = [f"- {n}" for n in comp.get("notes", [])] + [f"- error: {e}" for e in errors]
        lines += [""] + notes + ([""] if notes else [])
    return "\n".join(lines)


def plot_sparsity(summary: dict[str, Any], path: Path) -> Path | None:
    """pJ per operation against weight sparsity, one line per design and comparison with a sparsity axis."""
    comps = [c for c in summary["comparisons"] if any(r["sparsity"] is not None for r in c["rows"])]
    if not comps:
        return None
    fig, axes = _axes((5.0 * len(comps), 4.0), ncols=len(comps))
    axes = axes if len(comps) > 1 else [axes]
    for ax, comp in zip(axes, comps, strict=True):
        groups: dict[str, list[dict]] = {}
        for row in comp["rows"]:
            if row["sparsity"] is None:
                continue
            tag = row["stimulus"].split(", clustering ")[-1] if "clustering" in row["stimulus"] else ""
            groups.setdefault(tag, []).append(row)
        for tag, rows in groups.items():
            for preset in comp["designs"]:
                pts = [(r["sparsity"], r["designs"][preset]["pj_per_op"]) for r in rows
                       if "pj_per_op" in r["designs"][preset]]
                if pts:
                    label = preset + (f", clustering {tag}" if tag and preset.startswith("slt") else "")
                    if tag == "on" and not preset.startswith("slt"):
                        continue  # the MAC array does not cluster: one line
                    ax.plot(*zip(*pts, strict=True), marker="o", label=label)
        ax.set_xlabel("weight sparsity")
        ax.set_ylabel("pJ per operation")
        ax.set_title(comp["title"], fontsize=8)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
    return _finish(fig, path)


def plot_area(summary: dict[str, Any], path: Path) -> Path | None:
    """pJ per operation against standard-cell area, one point per design: its first comparison's first stimulus
    without a sparsity axis (real data, for the arrays), else the first stimulus."""
    points = {}
    for comp in summary["comparisons"]:
        rows = [r for r in comp["rows"] if r["sparsity"] is None] or comp["rows"]
        for preset in comp["designs"]:
            d = rows[0]["designs"][preset]
            if "pj_per_op" in d and preset not in points:
                area = d["area_um2"] / 1e6 if d.get("area_um2") else d.get("nand2_eq", 0.0) / 1e3
                points[preset] = (area, d["pj_per_op"], rows[0]["stimulus"])
    if not points:
        return None
    fig, ax = _axes((7.0, 5.0))
    for preset, (area, pj, _) in points.items():
        ax.scatter(area, pj)
        ax.annotate(preset, (area, pj), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    generic = any(d.get("nand2_eq") for c in summary["comparisons"] for r in c["rows"] for d in r["designs"].values())
    ax.set_xlabel("kNAND2-eq (generic gates)" if generic else "standard-cell area (mm^2, OSU 0.18 um)")
    ax.set_ylabel("pJ per operation")
    ax.set_title("Energy per operation against area", fontsize=9)
    return _finish(fig, path)
