"""``make bench``: stream a long GEMM through the 16x16 weight-stationary array and report utilization.

Utilization is the share of cycles, from the first activation beat accepted to the last result, in which the
array accepted an activation beat (R x C useful MACs). Simulated cycles per second measure the simulator on
this machine and are only comparable within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from verif.runner import BUILD, SIMULATORS, emit_design, run_bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.perf", description=__doc__)
    parser.add_argument("--sim", choices=SIMULATORS, action="append")
    parser.add_argument("--preset", default="mac-ternary-16x16")
    args = parser.parse_args(argv)
    results = []
    for sim in args.sim or list(SIMULATORS):
        out = BUILD / "bench" / f"{args.preset}-{sim}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)
        os.environ["LOWBIT_BENCH_OUT"] = str(out.resolve())
        started = time.monotonic()
        try:
            run_bench(emit_design(args.preset), "verif.mac_array.perf", sim=sim)
        except BaseException as exc:  # a skipped simulator raises pytest's Skipped
            print(f"{sim}: not run ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        result = json.loads(out.read_text())
        result["wall_s"] = round(time.monotonic() - started, 1)
        results.append(result)
        print(f"{sim:9} {result['preset']}: {result['tiles']} weight tiles, K={result['k']}, N={result['n']}, "
              f"T={result['tokens']}: utilization {100 * result['utilization']:.1f} % "
              f"({result['busy_cycles']}/{result['cycles']} cycles), "
              f"{result['sim_cycles_per_s']:,.0f} simulated cycles/s")
    summary = BUILD / "bench" / "summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
