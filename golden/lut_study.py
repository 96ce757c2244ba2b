"""Error of the LUT tensor core's quantized tables (golden model only): ``python -m golden.lut_study``.

BitNet-like data (``golden.lut.table_error``): Gaussian activations quantized per token with absmax to int8,
absmean-ternarized Gaussian weights (or uniform int4), K = 256, 64 tokens x 64 columns. Writes
``build/report/lut_tables.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .lut import table_error

GROUPS = (2, 3, 4, 5)
TABLE_BITS = (6, 8, 10)
WEIGHTS = (("ternary", 2), ("int", 4))


def study() -> list[dict]:
    return [{"weights": kind if kind == "ternary" else f"int{bits}", **table_error(g=g, table_bits=tb,
                                                                                   weight_kind=kind, weight_bits=bits)}
            for kind, bits in WEIGHTS for g in GROUPS for tb in TABLE_BITS]


def markdown(rows: list[dict]) -> str:
    lines = ["# LUT tensor core: quantized tables", "",
             "Mean |error| of Y over the RMS of the exact Y (and the largest |error| in units of Y); K = 256, "
             "int8 absmax activations; static power-of-two scale (shift s).", "",
             "| weights | g | table_bits | shift | mean error / RMS | max abs error |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['weights']} | {r['g']} | {r['table_bits']} | {r['shift']} | "
                     f"{r['mean_error_over_rms']:.4f} | {r['max_abs_error']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golden.lut_study", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/report"))
    args = parser.parse_args(argv)
    rows = study()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "lut_tables.json").write_text(json.dumps(rows, indent=2) + "\n")
    (args.out / "lut_tables.md").write_text(markdown(rows))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
