"""``python -m verif.formal``: run the proofs (all, ``--quick`` for those of ``make test``, or names / substrings)
into ``build/formal/``: a folder per proof, ``summary.json`` and ``summary.md``."""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .proofs import Proof, all_proofs
from .run import run_proof

ROOT = Path("build/formal")


def select(names: list[str], quick: bool) -> list[Proof]:
    proofs = [p for p in all_proofs() if p.quick or not quick]
    if names:
        proofs = [p for p in proofs if any(n in p.name for n in names)]
    return proofs


def markdown(rows: list[dict]) -> str:
    lines = ["| proof | property | design | method | depth / cases | result | expected | s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        extent = r["depth"] if r["depth"] is not None else (r["cases"] or 1)
        lines.append(f"| {r['name']} | {r['property']} | `{r['design']}` | {r['method']} | {extent} | "
                     f"{r['status']} | {r['expect']} | {r['seconds']} |")
    failed = [r for r in rows if not r["ok"]]
    total = sum(r["seconds"] for r in rows)
    lines += ["", f"{len(rows) - len(failed)} of {len(rows)} as expected; {total:.0f} s of tool time."]
    for r in failed:
        lines.append(f"- **{r['name']}**: {r['status']} (expected {r['expect']}): {r['detail']}")
    return "\n".join(lines) + "\n"


def _run(proof_name: str, root: str) -> dict:
    proof = next(p for p in all_proofs() if p.name == proof_name)
    return run_proof(proof, Path(root))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verif.formal", description=__doc__)
    parser.add_argument("names", nargs="*", help="proof names or parts of them (default: all)")
    parser.add_argument("--quick", action="store_true", help="only the proofs `make test` runs")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT)
    parser.add_argument("--list", action="store_true", help="list the proofs and stop")
    args = parser.parse_args(argv)
    proofs = select(args.names, args.quick)
    if args.list:
        for p in proofs:
            print(f"{p.name:48} {p.property:12} {p.method:28} {'quick' if p.quick else ''}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = []
        for row in pool.map(_run, [p.name for p in proofs], [str(args.out)] * len(proofs)):
            print(f"{row['name']:48} {row['status']:8} {row['seconds']:7.1f} s"
                  + ("" if row["ok"] else f"  (expected {row['expect']}) {row['detail']}"), flush=True)
            rows.append(row)
    (args.out / "summary.json").write_text(json.dumps(rows, indent=2) + "\n")
    (args.out / "summary.md").write_text(markdown(rows))
    print(f"{args.out / 'summary.md'}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
