"""``make bench``: stream a long GEMM or GEMV through each chosen preset and report utilization: the 16x16
weight-stationary MAC array, and the GEMV datapaths (the MAC array and the LUT core, weight-streaming).

Utilization is the share of cycles, from the first activation beat accepted to the last result, in which the
block did a whole tile of useful MACs (an activation beat of the MAC array; a weight tile of a weight-streaming
LUT core). Simulated cycles per second measure the simulator on this machine and are only comparable within
one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from gen.presets import load_presets
from verif.runner import BUILD, SIMULATORS, emit_design, run_bench

PRESETS = ["mac-ternary-16x16", "mac-ternary-gemv-16x16", "lut-ternary-gemv-16x16", "lut-ternary-gemv-b4-16x16"]
BLOCKS = ("mac_array", "lut_core")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.perf", description=__doc__)
    parser.add_argument("--sim", choices=SIMULATORS, action="append")
    parser.add_argument("--preset", action="append", choices=sorted(p for p, e in load_presets().items()
                                                                    if e["block"] in BLOCKS),
                        help=f"default: {' '.join(PRESETS)}")
    args = parser.parse_args(argv)
    results = []
    for sim, preset in [(s, p) for p in args.preset or PRESETS for s in args.sim or list(SIMULATORS)]:
        out = BUILD / "bench" / f"{preset}-{sim}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        os.environ["LOWBIT_BENCH_OUT"] = str(out.resolve())
        started = time.monotonic()
        try:
            run_bench(emit_design(preset), "verif.perf_bench", sim=sim)
        except BaseException as exc:  # a skipped simulator raises pytest's Skipped
            print(f"{sim}: not run ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        result = json.loads(out.read_text())
        result["wall_s"] = round(time.monotonic() - started, 1)
        results.append(result)
        print(f"{sim:9} {result['preset']}: {result['tiles']} token-tiles, K={result['k']}, N={result['n']}, "
              f"T={result['tokens']}: utilization {100 * result['utilization']:.1f} % "
              f"({result['busy_cycles']}/{result['cycles']} cycles), "
              f"{result['sim_cycles_per_s']:,.0f} simulated cycles/s")
    summary = BUILD / "bench" / "summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
