"""``python -m gen``: list presets, emit Verilog and manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .manifest import emit
from .presets import design, load_presets, parse_override


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the presets")
    emit_cmd = sub.add_parser("verilog", help="write build/rtl/<preset>/<top>.v and manifest.json")
    emit_cmd.add_argument("presets", nargs="*", help="preset names (default: every preset)")
    emit_cmd.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                          help="override a config field (repeatable)")
    emit_cmd.add_argument("--out", type=Path, default=Path("build/rtl"), help="output root (default build/rtl)")
    args = parser.parse_args(argv)

    presets = load_presets()
    if args.command == "list":
        for name, entry in presets.items():
            fields = ", ".join(f"{k}={v}" for k, v in entry.items() if k != "block")
            print(f"{name:28} {entry['block']:12} {fields}")
        return 0

    try:
        overrides = dict(parse_override(text) for text in args.overrides)
        designs = [design(name, overrides) for name in (args.presets or list(presets))]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for d in designs:
        for warning in d.config.warnings():
            print(f"warning: {d.name}: {warning}", file=sys.stderr)
        path = emit(d, args.out)
        print(f"{d.name:28} -> {path.parent / (d.config.top_name + '.v')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
