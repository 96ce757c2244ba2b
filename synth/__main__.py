"""``python -m synth``: run the synthesis flows (``run``) and gather their JSON into a summary (``report``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gen.presets import all_designs, design, parse_override

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
    report_cmd = sub.add_parser("report", help="write build/report/summary.{json,md} and plots")
    report_cmd.add_argument("--synth", type=Path, default=Path("build/synth"))
    report_cmd.add_argument("--out", type=Path, default=Path("build/report"))
    args = parser.parse_args(argv)

    if args.command == "report":
        for path in write_report(args.synth, args.out):
            print(path)
        return 0
    flows = [f.strip() for f in args.flows.split(",") if f.strip()]
    try:
        unknown = [f for f in flows if f not in FLOWS]
        if unknown:
            raise ValueError(f"unknown flow {unknown[0]!r}; flows: {', '.join(FLOWS)}")
        overrides = dict(parse_override(text) for text in args.overrides)
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


if __name__ == "__main__":
    sys.exit(main())
