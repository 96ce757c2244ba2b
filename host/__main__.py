"""``python -m host``: talk to a board built by ``make bitstream`` over its USB serial port (pyserial).

``info`` and ``status`` print the link's and the block's state; ``gemv`` sends random GEMVs and checks each
result against the golden model (exit status 1 on the first difference).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host", description=__doc__.split("\n\n")[0])
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
