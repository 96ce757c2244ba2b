"""``make report``: gather ``build/synth/*/*.json`` into ``summary.json``, ``summary.md`` and a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .flows import DFF_BASE, DFF_EXTRA, NAND2_WEIGHTS

COLUMNS = {
    "generic": [("nand2_eq", "NAND2-eq"), ("ffs", "FFs"), ("logic_depth", "depth"),
                ("ops_per_cycle", "ops/cycle"), ("ops_per_cycle_per_kge", "ops/cycle/kGE")],
    "fpga": [("luts", "LUT4"), ("carry_cells", "CCU2C"), ("ffs", "FFs"), ("dsps", "DSP"),
             ("fmax_mhz", "Fmax MHz")],
    "asic": [("area_um2", "area um^2"), ("ffs", "FFs"), ("critical_path_ns", "crit. path ns"),
             ("fmax_mhz", "Fmax MHz")],
}
RATIO_LABELS = {"nand2_eq": "NAND2-eq", "logic_depth": "logic depth", "luts": "ECP5 LUT4",
                "fmax_mhz": "Fmax", "area_um2": "std-cell area", "critical_path_ns": "critical path",
                "ops_per_cycle_per_kge": "ops/cycle per kGE", "ffs": "flip-flops", "carry_cells": "CCU2C"}


def load_reports(synth_root: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(synth_root.glob("*/*.json"))]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def comparisons(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every ratio of the run: to a design's baseline, then to the presets it names in ``compare``."""
    out = [{"preset": r["preset"], "baseline": r["baseline"], "flow": r["flow"], "ratios": r["ratio_to_baseline"]}
           for r in reports if r.get("ratio_to_baseline")]
    out += [{"preset": r["preset"], "baseline": other, "flow": r["flow"], "ratios": values}
            for r in reports for other, values in r.get("ratio_to", {}).items()]
    return out


def area_splits(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Generic-flow designs with submodules: NAND2-eq per op/cycle, split by part (the parts' shares of the
    unflattened synthesis applied to the flattened total)."""
    rows = []
    for r in reports:
        parts = r.get("breakdown_nand2_eq")
        if r["flow"] != "generic" or not parts or not r.get("ops_per_cycle"):
            continue
        whole = sum(parts.values())
        rows.append({"preset": r["preset"], "block": r["block"], "config": r["config"],
                     "ops_per_cycle": r["ops_per_cycle"], "nand2_eq": r["nand2_eq"],
                     "per_op": {p: r["nand2_eq"] * v / whole / r["ops_per_cycle"] for p, v in parts.items()},
                     "share": {p: v / whole for p, v in parts.items()}})
    return rows


def series(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Groups of at least three designs of one block whose configs differ in exactly one field (a sweep),
    ordered by that field: ``(field, members)``."""
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        for other in rows:
            if other is row or other["block"] != row["block"]:
                continue
            diff = [k for k in row["config"] if row["config"][k] != other["config"].get(k)]
            if len(diff) == 1:
                rest = json.dumps({k: v for k, v in row["config"].items() if k != diff[0]}, sort_keys=True)
                members = found.setdefault((row["block"], diff[0], rest), [])
                if row not in members:
                    members.append(row)
    return [(field, sorted(members, key=lambda m: m["config"][field]))
            for (_, field, _), members in sorted(found.items()) if len(members) >= 3]


def markdown(reports: list[dict[str, Any]]) -> str:
    lines = ["# Synthesis summary", ""]
    versions: dict[str, str] = {}
    for r in reports:
        versions.update(r.get("tool_versions", {}))
    lines += ["Tools: " + "; ".join(f"{k} {v}" for k, v in sorted(versions.items())), ""]
    comps = comparisons(reports)
    if comps:
        lines += ["## Ratios to the baseline (same run; < 1 means smaller or faster for area and path, "
                  "> 1 means better for Fmax and ops/cycle per kGE; an op is a MAC or a multiply)", "",
                  "| design | baseline | flow | " + " | ".join(RATIO_LABELS.values()) + " |",
                  "|---|---|---|" + "---|" * len(RATIO_LABELS)]
        for c in comps:
            cells = [_cell(c["ratios"].get(k)) for k in RATIO_LABELS]
            lines.append(f"| {c['preset']} | {c['baseline']} | {c['flow']} | " + " | ".join(cells) + " |")
        lines.append("")
    for flow, columns in COLUMNS.items():
        rows = [r for r in reports if r["flow"] == flow]
        if not rows:
            continue
        target = next((r["target"] for r in rows if "target" in r), "")
        lines += [f"## {flow}: {target}", "",
                  "| preset | " + " | ".join(label for _, label in columns) + " | runtime s |",
                  "|---|" + "---|" * (len(columns) + 1)]
        for r in rows:
            if "skipped" in r or "error" in r:
                reason = r.get("skipped") or r["error"].splitlines()[0]
                lines.append(f"| {r['preset']} | {'skipped' if 'skipped' in r else 'failed'}: {reason} |")
                continue
            cells = [_cell(r.get(key)) for key, _ in columns]
            lines.append(f"| {r['preset']} | " + " | ".join(cells) + f" | {_cell(r.get('runtime_s'))} |")
        lines.append("")
    splits = area_splits(reports)
    if splits:
        parts = sorted({p for row in splits for p in row["per_op"]})
        lines += ["## Area split (generic flow; NAND2-eq per op/cycle by submodule, `top` is the rest: weight "
                  "buffers, accumulators, control)", "",
                  "| preset | ops/cycle | NAND2-eq | " + " | ".join(f"{p} per op" for p in parts) + " | " +
                  " | ".join(f"{p} share" for p in parts) + " |", "|---|---|---|" + "---|" * (2 * len(parts))]
        for row in splits:
            per_op = [_cell(row["per_op"].get(p)) for p in parts]
            share = [f"{row['share'].get(p, 0):.0%}" for p in parts]
            lines.append(f"| {row['preset']} | {_cell(row['ops_per_cycle'])} | {_cell(row['nand2_eq'])} | "
                         + " | ".join(per_op + share) + " |")
        lines.append("")
    weights = ", ".join(f"{k.strip('$_')} {v}" for k, v in NAND2_WEIGHTS.items())
    lines += [f"NAND2-equivalent weights: {weights}; flip-flop {DFF_BASE} + {DFF_EXTRA} per enable or reset.",
              "FPGA and ASIC figures are for the design inside a wrapper that registers every port; the "
              "wrapper's flip-flops are excluded from FFs and area.", ""]
    return "\n".join(lines)


def _axes(size: tuple[float, float], ncols: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(ncols=ncols, figsize=size)


def _finish(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _save(fig, ax, path: Path) -> Path:
    ax.legend()
    return _finish(fig, path)


def plot(reports: list[dict[str, Any]], path: Path) -> Path | None:
    comps = comparisons(reports)
    if not comps:
        return None
    bars = [("generic", "nand2_eq", "NAND2-eq"), ("fpga", "luts", "ECP5 LUT4"), ("asic", "area_um2", "std-cell area"),
            ("fpga", "fmax_mhz", "ECP5 Fmax"), ("asic", "fmax_mhz", "std-cell Fmax")]
    ratio = {(c["preset"], c["flow"], k): v for c in comps for k, v in c["ratios"].items()}
    bars = [b for b in bars if any((c["preset"], b[0], b[1]) in ratio for c in comps)]
    labels = sorted({c["preset"] for c in comps})
    fig, ax = _axes((max(6, 1.6 * len(labels)), 4))
    width = 0.8 / max(1, len(bars))
    for i, (flow, key, name) in enumerate(bars):
        values = [ratio.get((label, flow, key), 0) for label in labels]
        ax.bar([x + i * width for x in range(len(labels))], values, width, label=name)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks([x + width * (len(bars) - 1) / 2 for x in range(len(labels))], labels, rotation=15)
    ax.set_ylabel("ratio to baseline (same run)")
    ax.set_title("Design / baseline")
    return _save(fig, ax, path)


def plot_mantissa_area(reports: list[dict[str, Any]], path: Path) -> Path | None:
    """NAND2 equivalents against mantissa width for every single-operation unit with a ``man_bits`` field
    (the float multipliers), one line per block and exponent width."""
    series: dict[str, list[tuple[int, float]]] = {}
    for r in reports:
        config = r.get("config", {})
        if r["flow"] != "generic" or "nand2_eq" not in r or "man_bits" not in config or r["ops_per_cycle"] != 1:
            continue
        label = f"{r['block']} (e{config['exp_bits']})"
        series.setdefault(label, []).append((config["man_bits"], r["nand2_eq"]))
    series = {k: sorted(v) for k, v in series.items() if len(v) > 1}
    if not series:
        return None
    fig, ax = _axes((6, 4))
    for label, points in sorted(series.items()):
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    ax.set_xlabel("mantissa bits")
    ax.set_ylabel("NAND2 equivalents (generic flow)")
    ax.set_yscale("log")
    ax.set_title("Float multiplier area against mantissa width")
    return _save(fig, ax, path)


def plot_area_split(reports: list[dict[str, Any]], path: Path) -> Path | None:
    """One panel per sweep: stacked NAND2-eq per op/cycle by part, with the NAND2-eq per op/cycle of the
    designs the sweep's members are compared with (baseline and ``compare``) as horizontal lines."""
    rows = area_splits(reports)
    sweeps = series(rows)
    if not sweeps:
        return None
    generic = {r["preset"]: r for r in reports if r["flow"] == "generic" and r.get("nand2_eq")}
    fig, axes = _axes((5.5 * len(sweeps), 4), ncols=len(sweeps))
    axes = axes if len(sweeps) > 1 else [axes]
    for ax, (field, members) in zip(axes, sweeps, strict=True):
        parts = sorted({p for m in members for p in m["per_op"]}, key=lambda p: (p == "top", p))  # rest on top
        xs = list(range(len(members)))
        bottom = [0.0] * len(members)
        for part in parts:
            values = [m["per_op"].get(part, 0.0) for m in members]
            ax.bar(xs, values, 0.6, bottom=bottom, label=part)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        refs = {name for m in members for name in [generic.get(m["preset"], {}).get("baseline")] +
                generic.get(m["preset"], {}).get("compare", []) if name in generic}
        for ref in sorted(refs):
            r = generic[ref]
            ax.axhline(r["nand2_eq"] / r["ops_per_cycle"], linestyle="--", linewidth=1,
                       color="black" if "int8" in ref else "grey", label=f"{ref} (per op)")
        ax.set_xticks(xs, [str(m["config"][field]) for m in members])
        ax.set_xlabel(f"{field} ({members[0]['block']})")
        ax.set_ylabel("NAND2-eq per op/cycle (generic flow)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
    return _finish(fig, path)


def plot_slt_study(study: Path, path: Path) -> Path | None:
    """Cycles and energy proxy of the SLT engine over the ternary MAC array's against weight sparsity (from
    ``golden.slt_study``'s JSON): random weights with and without clustering, the rows x lanes shapes of the
    same peak, correlated and real weights as points."""
    if not study.exists():
        return None
    data = json.loads(study.read_text())
    fig, axes = _axes((11, 4), ncols=2)
    engine = (data["engine"]["rows"], data["engine"]["lanes"])
    shapes = sorted({(r["rows"], r["lanes"]) for r in data["shapes"]} - {engine})
    for ax, key, name in ((axes[0], "cycle_ratio", "cycles"), (axes[1], "energy_ratio", "energy proxy")):
        for clustering, style in ((False, "-"), (True, "--")):
            pts = sorted((r["sparsity"], r[key]) for r in data["rows"]
                         if r["case"] == "random" and r["clustering"] == clustering)
            ax.plot(*zip(*pts, strict=True), style, marker="o",
                    label=f"{engine[0]} x {engine[1]}, clustering {'on' if clustering else 'off'}")
        for rows, lanes in shapes:
            pts = sorted((r["sparsity"], r[key]) for r in data["shapes"] if (r["rows"], r["lanes"]) == (rows, lanes))
            ax.plot(*zip(*pts, strict=True), ":", marker=".", label=f"{rows} x {lanes}")
        for r in data["rows"]:
            if r["case"] != "random":
                ax.scatter([r["sparsity"]], [r[key]], marker="s" if r["case"] == "correlated" else "*", s=40,
                           label=f"{r['case']}, clustering {'on' if r['clustering'] else 'off'}")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xlabel("weight sparsity")
        ax.set_ylabel(f"{name}: SLT / ternary MAC array")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=6)
    axes[0].set_title("Same GEMV, same peak (384 weights/cycle)")
    axes[1].set_title("Energy proxy (golden counters, stated unit weights)")
    return _finish(fig, path)


def write_report(synth_root: Path, out_root: Path) -> list[Path]:
    reports = load_reports(synth_root)
    out_root.mkdir(parents=True, exist_ok=True)
    summary = out_root / "summary.json"
    summary.write_text(json.dumps({"reports": reports, "comparisons": comparisons(reports)}, indent=2) + "\n")
    md = out_root / "summary.md"
    md.write_text(markdown(reports))
    written = [summary, md]
    for png in (plot(reports, out_root / "ratios.png"), plot_mantissa_area(reports, out_root / "area_vs_mantissa.png"),
                plot_area_split(reports, out_root / "area_split.png"),
                plot_slt_study(out_root / "slt_study.json", out_root / "slt_sparsity.png")):
        if png:
            written.append(png)
    return written
