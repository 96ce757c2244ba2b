"""``python -m synth``: run the synthesis flows (``run``) and gather their JSON into a summary (``report``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gen.presets import all_designs, design, parse_overrides

from .flows import FLOWS
from .report import write_report
from .run import run_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_cmd = sub.add_parser("run", help="cost presets with the flows of synth.md")
    run_cmd.add_argument("presets", nargs="*", help="preset names (default: every preset)")
    run_cmd.add_argument("--flows", default=",".join(FLOWS), help=f"comma-separated subset of {','.join(FLOWS)}")
    run_cmd.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                         help="override a config field of the named presets (repeatable; one sweep point)")
    run_cmd.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    run_cmd.add_argument("--out", type=Path, default=Path("build/synth"))
    energy_cmd = sub.add_parser("energy", help="a preset's standard-cell netlist for simulation, and the energy of a "
                                "trace of it (make energy runs the comparisons: python -m verif.energy)")
    energy_cmd.add_argument("preset")
    energy_cmd.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    energy_cmd.add_argument("--trace", type=Path, help="a VCD or FST of the netlist's simulation to price")
    energy_cmd.add_argument("--window", default=None, metavar="START:END",
                            help="the measured window in ns (default: the whole trace)")
    energy_cmd.add_argument("--out", type=Path, default=Path("build/energy/cli"))
    report_cmd = sub.add_parser("report", help="write build/report/summary.{json,md} and plots")
    report_cmd.add_argument("--synth", type=Path, default=Path("build/synth"))
    report_cmd.add_argument("--out", type=Path, default=Path("build/report"))
    args = parser.parse_args(argv)

    if args.command == "energy":
        return energy_command(args)
    if args.command == "report":
        for path in write_report(args.synth, args.out):
            print(path)
        return 0
    flows = [f.strip() for f in args.flows.split(",") if f.strip()]
    try:
        unknown = [f for f in flows if f not in FLOWS]
        if unknown:
            raise ValueError(f"unknown flow {unknown[0]!r}; flows: {', '.join(FLOWS)}")
        overrides = parse_overrides(args.overrides)
        if overrides and not args.presets:
            raise ValueError("--set needs preset names")
        designs = [design(p, overrides) for p in args.presets] if args.presets else all_designs()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    reports = run_all(designs, flows, args.out, args.jobs)
    failed = [r for r in reports if "error" in r]
    for r in failed:
        print(f"error: {r['preset']} {r['flow']}: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


def energy_command(args: argparse.Namespace) -> int:
    """Write the netlist (and the cell models for Verilator); with ``--trace``, price its activity."""
    import json

    from . import energy, tools
    from .activity import Netlist, activity_from_trace, trace_span_ns
    from .liberty import read_liberty

    lib = tools.liberty()
    if lib is None:
        print(f"error: no liberty file ({tools.DEFAULT_LIBERTY} from Debian's qflow-tech-osu018, or LIBERTY=path)",
              file=sys.stderr)
        return 2
    try:
        d = design(args.preset, parse_overrides(args.overrides))
        window = tuple(float(v) for v in args.window.split(":")) if args.window else None
        if window is not None and (len(window) != 2 or window[1] <= window[0]):
            raise ValueError(f"--window must be START:END in ns with END > START, got {args.window!r}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    work = (args.out / d.name).resolve()
    files = energy.build_netlist(d, work, lib)
    models = energy.cell_models(lib, work)
    print(f"netlist {files.verilog} (top {files.top}), cell models {models}")
    print("Verilator options: " + " ".join(energy.VERILATOR_NETLIST_ARGS))
    if args.trace is None:
        return 0
    nets = Netlist.read(files.json, files.top)
    if window is None:
        window = trace_span_ns(args.trace)
    activity, untraced = activity_from_trace(args.trace, nets, window)
    result = energy.energy(read_liberty(lib), nets, activity, window[1] - window[0], untraced)
    report = {"preset": d.name, "block": d.block.name, "trace": str(args.trace), "window_ns": list(window),
              **result.as_dict()}
    path = work / "energy.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{report['energy_pj']:.6g} pJ over {window[1] - window[0]:g} ns; {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
