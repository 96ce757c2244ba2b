"""Energy from gate-level switching activity (spec ``energy.md``): the asic flow's standard-cell netlist, per-net
toggle counts over a window, and the liberty's power data.

The model, per window:

- **internal energy** of every output transition of a cell: the liberty's ``internal_power`` ``rise_power`` or
  ``fall_power`` table of that output, looked up at the net's load and the related input's slew, averaged over
  the tables' related pins (which input caused a transition is not known from a zero-delay trace);
- **input-pin energy** of every transition of an input that has its own (``related_pin``-less) table: the
  flip-flops' clock and data pins (the clock pin of a DFFPOSX1 costs ~0.11 pJ every cycle whether its data
  changes or not);
- **switching energy** ``1/2 C V^2`` per transition of every net, with C the sum of the driven pins'
  capacitances, plus :data:`WIRE_PF_PER_FANOUT` per driven pin (a stated wire-load model: the library has none
  and there is no placement), plus :data:`OUTPUT_LOAD_PF` on a design output;
- **leakage**: every cell's ``cell_leakage_power`` times the window.

The clock's share (``clock_pj``) is the clock pins' energy, the switching of every clock net (the clock, and
with clock gating the gated clocks) and the internal energy of the clock gates' outputs.

Slews are taken one level deep: a net's slew is its driver's ``rise_transition``/``fall_transition`` at the
net's load for a :data:`NOMINAL_SLEW_NS` input; a design input is driven by :data:`INPUT_DRIVER` (the asic
flow's ABC constraints). The clock is ideal (no clock tree): its net is charged with its pins and wire like any
other net, two transitions a cycle.

Energies come out in pJ: the tables are in pF x V^2 (OSU 0.18 um: ``capacitive_load_unit (1, pf)``, 1.8 V).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gen.manifest import emit
from gen.presets import Design

from . import tools
from .activity import Activity, Netlist
from .flows import ABC_DRIVING_CELL, ABC_LOAD_PF, map_to_cells, map_to_gates
from .liberty import NOMINAL_SLEW_NS, Library, read_liberty

#: Wire capacitance per driven pin (pF). A 0.18 um net to a neighbouring cell runs tens of um of metal at
#: ~0.1 fF/um; this is the stated model in place of the wire-load tables the library does not have.
WIRE_PF_PER_FANOUT = 0.004
#: Load on each design output (pF), the value the asic flow gives ABC.
OUTPUT_LOAD_PF = ABC_LOAD_PF
#: The cell that drives each design input (as the asic flow tells ABC).
INPUT_DRIVER = ABC_DRIVING_CELL

#: Classes of the energy split, in report order.
CLASSES = ("datapath", "accumulators", "control", "registers_and_clock", "leakage")

#: A register (or output) belongs to a class by its net name: accumulators by name; control if one bit wide or
#: named like a handshake, counter or flag; the rest is datapath. Combinational cells take the class of the
#: nearest register or output they feed.
ACCUMULATOR_NAMES = re.compile(r"^(acc|prior|accumulate)")
CONTROL_NAMES = re.compile(r"(valid|ready|token|last|first|count|nnz|nonzero|perf|error|overflow|slot|full|busy|"
                           r"index|visited|open_block|beat|held|state|active)")


#: The clock period the netlist is mapped for (ABC's delay target), the asic flow's default.
MAP_PERIOD_NS = 10.0


@dataclass(frozen=True)
class NetlistFiles:
    verilog: Path
    json: Path
    stat: Path
    top: str


def build_netlist(design: Design, work: Path, lib: Path | None, clock_gating: bool = False,
                  per_module: bool = False) -> NetlistFiles:
    """The asic flow's mapping of the design alone (no port registers) to the cells of ``lib``, written into
    ``work``: Verilog for simulation, JSON with the same net names for pricing, and ``stat -liberty``; with
    ``clock_gating``, through clock gates; with ``per_module``, mapped module by module and then flattened
    (:func:`synth.flows.map_to_cells`). Without a liberty, the generic flow's gates (priced by
    :func:`synth.liberty.generic_library`)."""
    manifest = json.loads(emit(design, work / "rtl").read_text())
    top = manifest["top"]
    source = work / f"{top}.v"
    source.write_text((work / "rtl" / design.name / f"{top}.v").read_text())
    files = NetlistFiles(work / "netlist.v", work / "netlist.json", work / "stat.json", top)
    if lib is None:
        if clock_gating:
            raise ValueError("clock gating needs a liberty file: the gates are built from its cells")
        map_to_gates(source, top, files.verilog, files.stat, work / "map.log", files.json)
    else:
        map_to_cells(source, top, lib, MAP_PERIOD_NS, files.verilog, files.stat, work / "map.log", files.json,
                     clock_gating, per_module)
    return files


def cell_models(lib: Path, out_dir: Path) -> Path:
    """The Verilog models beside ``lib`` (``<name>.v``) without their ``specify`` blocks, for Verilator, which
    ignores them anyway and whose tracing breaks on their specparams."""
    source = lib.with_suffix(".v")
    if not source.is_file():
        raise FileNotFoundError(f"no cell models {source} beside the liberty {lib}")
    text = re.sub(r"^\s*specify\b.*?^\s*endspecify\b", "", source.read_text(), flags=re.S | re.M)
    out = out_dir / f"{source.stem}-{hashlib.sha256(text.encode()).hexdigest()[:12]}.v"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    return out


#: Verilator options for simulating a netlist with :func:`cell_models`: the models' delays are not simulated,
#: every top-level net is traced (names starting with ``_`` included), and the C++ is compiled without
#: optimization, since compiling dominates short runs.
VERILATOR_NETLIST_ARGS = ["-Wno-MINTYPMAXDLY", "-Wno-SPECIFYIGN", "-Wno-IMPLICIT", "-Wno-fatal",
                          "--trace-depth", "1", "--trace-underscore", "-CFLAGS", "-O0"]


@dataclass
class Energy:
    """Energy of one window (pJ), split by class and by kind."""

    total_pj: float
    split: dict[str, float]
    kinds: dict[str, float]  # internal, input_pins, switching, leakage
    clock_pj: float
    window_ns: float
    cells: int
    untraced_bits: int = 0
    #: pJ by OpenSTA's instance groups (Sequential, Combinational; design inputs' nets apart) and kind
    groups: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"energy_pj": round(self.total_pj, 3), "split": {k: round(v, 3) for k, v in self.split.items()},
                "kinds": {k: round(v, 3) for k, v in self.kinds.items()}, "clock_pj": round(self.clock_pj, 3),
                "clock_share": round(self.clock_pj / self.total_pj, 4) if self.total_pj else None,
                "window_ns": self.window_ns, "cells": self.cells, "untraced_bits": self.untraced_bits}


def _net_loads(lib: Library, netlist: Netlist, wire_pf_per_fanout: float
               ) -> tuple[dict[int, float], dict[int, list[tuple[str, str]]]]:
    """Every net's capacitance (driven pins + wire model + output load) and its driving (instance, pin)s."""
    cap: dict[int, float] = defaultdict(float)
    drivers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for inst, (ctype, pins) in netlist.cells.items():
        cell = lib.cells[ctype]
        for pin, bit in pins.items():
            if cell.pins[pin].direction == "input":
                cap[bit] += cell.pins[pin].capacitance + wire_pf_per_fanout
            else:
                drivers[bit].append((inst, pin))
    for bit in netlist.outputs:
        cap[bit] += OUTPUT_LOAD_PF
    return cap, drivers


def clock_nets(lib: Library, netlist: Netlist) -> set[int]:
    """The design's clock and every net that drives a clock pin (the gated clocks of clock gating, and the
    inverted clock of their latches)."""
    nets = {netlist.clock} if netlist.clock is not None else set()
    for ctype, pins in netlist.cells.values():
        nets.update(bit for pin, bit in pins.items() if lib.cells[ctype].pins[pin].clock)
    return nets


def _slews(lib: Library, netlist: Netlist, cap: dict[int, float], drivers: dict[int, list[tuple[str, str]]],
           clocks: set[int]) -> dict[int, float]:
    """A slew (ns) per net: the mean of its driver's rise and fall transition at the net's load (the driver's
    own input slew taken as :data:`NOMINAL_SLEW_NS`); a design input is driven by :data:`INPUT_DRIVER`; clock
    nets are ideal (no tree), with the nominal slew."""
    slews = {}
    source = lib.cells[INPUT_DRIVER].pins if INPUT_DRIVER in lib.cells else {}
    source_pins = [p for p in source.values() if p.direction == "output"]
    for bit in set(cap) | set(drivers):
        if bit in clocks:  # an ideal clock: no tree, the nominal slew at every clock pin
            slews[bit] = NOMINAL_SLEW_NS
            continue
        pins = [lib.cells[netlist.cells[inst][0]].pins[pin] for inst, pin in drivers.get(bit, [])] or source_pins
        arcs = [arc for pin in pins for arc in pin.transitions]
        slews[bit] = float(np.mean([(r(cap[bit]) + f(cap[bit])) / 2 for r, f in arcs])) if arcs else NOMINAL_SLEW_NS
    return slews


def net_class(name: str, width: int) -> str:
    """The class of a register or output by its net name (see :data:`ACCUMULATOR_NAMES`)."""
    base = name.partition("[")[0]
    if ACCUMULATOR_NAMES.search(base):
        return "accumulators"
    if width == 1 or CONTROL_NAMES.search(base):
        return "control"
    return "datapath"


def cell_classes(lib: Library, netlist: Netlist, drivers: dict[int, list[tuple[str, str]]],
                 clocks: set[int]) -> dict[str, str]:
    """Each combinational instance's class: that of the nearest register input or design output it feeds (a
    breadth-first search backwards from them; ties go to the first of accumulators, datapath, control).
    Flip-flops, latches and the cells that drive clock nets (clock gates) are ``registers_and_clock``."""
    widths: dict[str, int] = defaultdict(int)
    for names in netlist.names.values():
        widths[names[0].partition("[")[0]] += 1
    classes: dict[str, str] = {d[0][0]: "registers_and_clock" for bit, d in drivers.items() if bit in clocks}
    queue: deque[tuple[int, str]] = deque()
    seeds = []
    for inst, (ctype, pins) in netlist.cells.items():
        if lib.cells[ctype].sequential:
            classes[inst] = "registers_and_clock"
            out = next(b for p, b in pins.items() if lib.cells[ctype].pins[p].direction == "output")
            name = netlist.names.get(out, ["?"])[0]
            kind = net_class(name, widths[name.partition("[")[0]])
            seeds += [(bit, kind) for p, bit in pins.items()
                      if lib.cells[ctype].pins[p].direction == "input" and not lib.cells[ctype].pins[p].clock]
    for bit in netlist.outputs:
        name = netlist.names[bit][0]
        seeds.append((bit, net_class(name, widths[name.partition("[")[0]])))
    order = {"accumulators": 0, "datapath": 1, "control": 2}
    queue.extend(sorted(seeds, key=lambda s: order[s[1]]))
    while queue:
        bit, kind = queue.popleft()
        inst = drivers[bit][0][0] if bit in drivers else None
        if inst is None or inst in classes:
            continue
        classes[inst] = kind
        ctype, pins = netlist.cells[inst]
        queue.extend((b, kind) for p, b in pins.items() if lib.cells[ctype].pins[p].direction == "input")
    for inst in netlist.cells:
        classes.setdefault(inst, "control")  # logic that feeds no register or output (unused)
    return classes


def energy(lib: Library, netlist: Netlist, activity: Activity, window_ns: float, untraced_bits: int = 0,
           wire_pf_per_fanout: float = WIRE_PF_PER_FANOUT) -> Energy:
    """The energy of ``netlist`` over a window of ``window_ns`` with ``activity`` (see the module docstring)."""
    cap, drivers = _net_loads(lib, netlist, wire_pf_per_fanout)
    clocks = clock_nets(lib, netlist)
    slews = _slews(lib, netlist, cap, drivers, clocks)
    classes = cell_classes(lib, netlist, drivers, clocks)
    split = dict.fromkeys(CLASSES, 0.0)
    kinds = dict.fromkeys(("internal", "input_pins", "switching", "leakage"), 0.0)
    groups = {g: dict.fromkeys(("internal", "switching", "leakage"), 0.0)
              for g in ("Sequential", "Combinational", "Inputs")}
    clock = 0.0
    half_cv2 = 0.5 * lib.voltage ** 2
    for inst, (ctype, pins) in netlist.cells.items():
        cell = lib.cells[ctype]
        kind = classes[inst]
        group = groups["Sequential" if cell.sequential else "Combinational"]
        leak = cell.leakage_nw * 1e-9 * window_ns * 1e-9 * 1e12  # nW x ns -> pJ
        split["leakage"] += leak
        kinds["leakage"] += leak
        group["leakage"] += leak
        for pin_name, bit in pins.items():
            pin = cell.pins[pin_name]
            rises, falls = activity.get(bit, (0, 0))
            if not (rises or falls) or not pin.power:
                continue
            if pin.direction == "input":
                slew = slews.get(bit, NOMINAL_SLEW_NS)
                e = sum(rises * r(slew=slew) + falls * f(slew=slew) for _, r, f in pin.power) / len(pin.power)
                kinds["input_pins"] += e
                if pin.clock:
                    clock += e
            else:
                load = cap.get(bit, 0.0)
                e = 0.0
                for related, r, f in pin.power:
                    slew = slews.get(pins.get(related), NOMINAL_SLEW_NS)
                    e += rises * r(load, slew) + falls * f(load, slew)
                e /= len(pin.power)
                kinds["internal"] += e
                if bit in clocks:  # a clock gate's output
                    clock += e
            split[kind] += e
            group["internal"] += e
    for bit, c in cap.items():
        rises, falls = activity.get(bit, (0, 0))
        e = half_cv2 * c * (rises + falls)
        if not e:
            continue
        kinds["switching"] += e
        if bit in clocks:
            clock += e
            split["registers_and_clock"] += e
        else:
            driver = drivers.get(bit)
            if driver:
                split[classes[driver[0][0]]] += e
                ctype = netlist.cells[driver[0][0]][0]
                groups["Sequential" if lib.cells[ctype].sequential else "Combinational"]["switching"] += e
            else:  # a design input, by its port name
                name = netlist.names[bit][0]
                split[net_class(name, 1 if "[" not in name else 2)] += e
                groups["Inputs"]["switching"] += e
    return Energy(sum(split.values()), split, kinds, clock, window_ns, len(netlist.cells), untraced_bits, groups)


def opensta_script(liberty: Path, verilog: Path, netlist: Netlist, activity: Activity, cycles: int,
                   period_ns: float) -> str:
    """A Tcl script that hands OpenSTA the same netlist, loads, slews and per-pin activity (transitions per
    clock period, from ``activity`` over ``cycles``) and reports its power. The input drivers, output loads
    and clock slew are this model's; OpenSTA has no wire load here (compare with ``wire_pf_per_fanout = 0``).
    Debian's OpenSTA (2019) has no activity file reader, and its ``set_power_activity -pins`` calls a missing
    procedure, so every cell pin is set with ``sta::set_power_pin_activity`` and every input port with
    ``set_power_activity -input_ports``."""
    lines = [f"read_liberty {liberty}", f"read_verilog {verilog}", f"link_design {netlist.top}",
             f"create_clock -name clk -period {period_ns} [get_ports clk]",
             f"set_clock_transition {NOMINAL_SLEW_NS} [get_clocks clk]",
             f"set_driving_cell -lib_cell {INPUT_DRIVER} [delete_from_list [all_inputs] [get_ports clk]]",
             f"set_load {OUTPUT_LOAD_PF} [all_outputs]"]
    for bit in sorted(netlist.inputs - {netlist.clock}):
        rises, falls = activity.get(bit, (0, 0))
        lines.append(f"set_power_activity -input_ports {{{netlist.names[bit][0]}}} "
                     f"-activity {(rises + falls) / cycles:.6g} -duty 0.5")
    for inst, (_, pins) in sorted(netlist.cells.items()):
        for pin, bit in sorted(pins.items()):
            if bit == netlist.clock:
                continue
            rises, falls = activity.get(bit, (0, 0))
            lines.append(f"sta::set_power_pin_activity [get_pins {{{inst}/{pin}}}] {(rises + falls) / cycles:.6g} 0.5")
    lines += ["report_power -digits 6", "exit", ""]
    return "\n".join(lines)


def read_opensta_power(report: str) -> dict[str, dict[str, float]]:
    """``report_power``'s groups (Sequential, Combinational, Total) as ``{group: {internal, switching, leakage,
    total}}`` in W."""
    out = {}
    for line in report.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] in ("Sequential", "Combinational", "Total"):
            try:
                out[parts[0]] = dict(zip(("internal", "switching", "leakage", "total"), map(float, parts[1:5]),
                                         strict=True))
            except ValueError:
                continue
    return out


def _opensta_rule(lib: Library, netlist: Netlist, activity: Activity, cap: dict[int, float],
                  slews: dict[int, float]) -> dict[str, float]:
    """Internal energy (pJ) by instance group as OpenSTA 2019 counts it: every transition of an input pin
    costs the mean of the rise and fall energies of the output arcs related to that pin, whether the output
    changes or not (a flip-flop's output arcs are charged at every clock edge), plus the input pins' own
    tables, mean of rise and fall per transition."""
    out = {"Sequential": 0.0, "Combinational": 0.0}
    for ctype, pins in netlist.cells.values():
        cell = lib.cells[ctype]
        group = "Sequential" if cell.sequential else "Combinational"
        for pin_name, bit in pins.items():
            pin = cell.pins[pin_name]
            toggles = sum(activity.get(bit, (0, 0)))
            for related, rise, fall in pin.power:
                if pin.direction == "input":
                    slew = slews.get(bit, NOMINAL_SLEW_NS)
                    out[group] += toggles * (rise(slew=slew) + fall(slew=slew)) / 2
                elif related in pins:
                    rel = pins[related]
                    slew = slews.get(rel, NOMINAL_SLEW_NS)
                    out[group] += sum(activity.get(rel, (0, 0))) * (rise(cap.get(bit, 0.0), slew)
                                                                    + fall(cap.get(bit, 0.0), slew)) / 2
    return out


def _input_buffer_switching(lib: Library, netlist: Netlist, activity: Activity, cap: dict[int, float]) -> float:
    """Switching energy (pJ) of the nets driven by cells whose every input is a design input."""
    total = 0.0
    for ctype, pins in netlist.cells.values():
        cell = lib.cells[ctype]
        ins = [b for p, b in pins.items() if cell.pins[p].direction == "input"]
        if ins and all(b in netlist.inputs for b in ins):
            for p, b in pins.items():
                if cell.pins[p].direction != "input":
                    total += 0.5 * lib.voltage ** 2 * cap.get(b, 0.0) * sum(activity.get(b, (0, 0)))
    return total


def opensta_check(lib_path: Path, verilog: Path, netlist: Netlist, activity: Activity, cycles: int,
                  period_ns: float, work: Path) -> dict[str, Any]:
    """OpenSTA's ``report_power`` for the same netlist and activity beside this model's figures without a
    wire load (OpenSTA has none here), both in pJ over the window, by instance group and kind."""
    import shutil

    script = work / "power.tcl"
    script.write_text(opensta_script(lib_path, verilog, netlist, activity, cycles, period_ns))
    report = tools.run([shutil.which("sta"), "-no_init", "-exit", str(script)], work / "power.log")
    window = cycles * period_ns
    sta = {g: {k: v * window * 1e3 for k, v in row.items()}  # W x ns -> pJ
           for g, row in read_opensta_power(report).items()}
    lib = read_liberty(lib_path)
    ours = energy(lib, netlist, activity, window, wire_pf_per_fanout=0.0)
    cap, drivers = _net_loads(lib, netlist, 0.0)
    return {"opensta_pj": sta, "model_pj": ours.groups, "model_total_pj": ours.total_pj, "window_ns": window,
            "model_internal_opensta_rule_pj": _opensta_rule(
                lib, netlist, activity, cap, _slews(lib, netlist, cap, drivers, clock_nets(lib, netlist))),
            "model_input_buffer_switching_pj": _input_buffer_switching(lib, netlist, activity, cap)}
