"""A clock-gating cell built from standard cells, for the asic flow's optional clock gating.

Yosys' ``clockgate`` replaces each set of flip-flops that share a clock and an enable by enable-less
flip-flops on a gated clock from one integrated clock gate (ICG). The OSU 0.18 um library has no ICG cell, so
this module builds the usual latch-based one (a transparent-low latch holds the enable while the clock is high,
so the gated clock cannot glitch) from the library's cells: an inverter, a transparent-high ``LATCH`` on the
inverted clock, and an AND gate.
"""

from __future__ import annotations

from amaranth.back import verilog
from amaranth.hdl import Elaboratable, Instance, Module, Signal

#: The module name and ports ``clockgate -pos`` is given.
ICG_NAME = "lowbit_icg"
ICG_PORTS = "CE:CLK:GCLK"
#: The fewest flip-flops sharing an enable that get their own clock gate (below it, the gate's own clock
#: energy outweighs what it saves).
MIN_FLOPS = 8
#: OSU 0.18 um cells: (cell, input pins..., output pin)
CELLS = {"inverter": ("INVX1", "A", "Y"), "latch": ("LATCH", "D", "CLK", "Q"), "and": ("AND2X2", "A", "B", "Y")}


class ClockGate(Elaboratable):
    """``GCLK = CLK & latch(CE while CLK is low)``: a latch-based ICG of three library cells."""

    def __init__(self) -> None:
        self.ce = Signal(name="CE")
        self.clk = Signal(name="CLK")
        self.gclk = Signal(name="GCLK")

    def elaborate(self, platform):
        m = Module()
        clk_n, enable = Signal(name="clk_n"), Signal(name="enable_held")
        inv, latch, gate = CELLS["inverter"], CELLS["latch"], CELLS["and"]
        m.submodules.inverter = Instance(inv[0], **{f"i_{inv[1]}": self.clk, f"o_{inv[2]}": clk_n})
        m.submodules.latch = Instance(latch[0], **{f"i_{latch[1]}": self.ce, f"i_{latch[2]}": clk_n,
                                                   f"o_{latch[3]}": enable})
        m.submodules.gate = Instance(gate[0], **{f"i_{gate[1]}": self.clk, f"i_{gate[2]}": enable,
                                                 f"o_{gate[3]}": self.gclk})
        return m


def verilog_text() -> str:
    icg = ClockGate()
    return verilog.convert(icg, name=ICG_NAME, ports=[icg.ce, icg.clk, icg.gclk], emit_src=False)
