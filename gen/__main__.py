"""``python -m gen``: list presets, emit Verilog and manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .manifest import emit
from .presets import design, load_presets, parse_overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gen", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the presets")
    emit_cmd = sub.add_parser("verilog", help="write build/rtl/<preset>/<top>.v and manifest.json")
    emit_cmd.add_argument("presets", nargs="*", help="preset names (default: every preset)")
    emit_cmd.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                          help="override a config field (repeatable)")
    emit_cmd.add_argument("--out", type=Path, default=Path("build/rtl"), help="output root (default build/rtl)")
    sub.add_parser("boards", help="list the amaranth-boards boards and whether a pip-only toolchain builds them")
    bit_cmd = sub.add_parser("bitstream", help="a preset behind the UART host link on a board: "
                             "build/board/<board>/<preset>/top.bit (iCE40: top.bin), report.json, manifest.json")
    bit_cmd.add_argument("preset")
    bit_cmd.add_argument("--board", required=True, help="an amaranth-boards board (python -m gen boards)")
    bit_cmd.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    bit_cmd.add_argument("--clock-mhz", type=float, default=None,
                         help="run the design at this clock through the board's PLL (default: the board clock)")
    bit_cmd.add_argument("--baud", type=int, default=115200)
    bit_cmd.add_argument("--out", type=Path, default=Path("build/board"))
    args = parser.parse_args(argv)

    presets = load_presets()
    if args.command == "list":
        for name, entry in presets.items():
            fields = ", ".join(f"{k}={v}" for k, v in entry.items() if k != "block")
            print(f"{name:28} {entry['block']:12} {fields}")
        return 0

    if args.command == "boards":
        from .board import boards

        for name, brd in boards().items():
            print(f"{name:28} {brd.device:24} {brd.family or '- (no pip-only toolchain)'}")
        return 0
    if args.command == "bitstream":
        return _bitstream(args)

    try:
        overrides = parse_overrides(args.overrides)
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


def _bitstream(args: argparse.Namespace) -> int:
    from .board import BoardError, build_bitstream

    try:
        overrides = parse_overrides(args.overrides)
        report = build_bitstream(args.board, design(args.preset, overrides), args.out, args.clock_mhz, args.baud)
    except (ValueError, BoardError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{report['bitstream']}: {report['luts']:,} LUT4, {report['ffs']:,} FFs, {report['brams']} block RAMs, "
          f"{report['dsps']} DSPs; Fmax {report['fmax_mhz']} MHz against {report['clock_mhz']:g} MHz; "
          f"{report['build_s']:g} s")
    if not report["timing_met"]:
        print(f"error: timing not met ({report['fmax_mhz']} MHz < {report['clock_mhz']:g} MHz): "
              "the bitstream is written but may not work; choose a lower --clock-mhz", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
