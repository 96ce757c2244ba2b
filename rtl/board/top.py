"""A block behind the host link on an FPGA board (an amaranth-boards platform): clock, reset button, LEDs, UART."""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Instance, Module, Signal
from amaranth.lib import io
from amaranth.lib.cdc import ResetSynchronizer

from .link import LinkedBlock


@dataclass(frozen=True)
class BoardClock:
    """How the design is clocked.

    Attributes
    ----------
    freq_hz : float
        The ``sync`` clock frequency (constrained for place and route).
    pll_verilog : str or None
        A Verilog module ``pll`` from the vendor's PLL tool (``ecppll``, ``icepll``) when the board oscillator
        is not the design's clock; None: the oscillator drives ``sync`` directly.
    pll_ports : tuple of str
        The module's input clock, output clock and lock output.
    pll_on_pad : bool
        The PLL takes the clock pin itself (iCE40 ``SB_PLL40_PAD``), not the output of an input buffer.
    """

    freq_hz: float
    pll_verilog: str | None = None
    pll_ports: tuple[str, str, str] = ("clkin", "clkout0", "locked")
    pll_on_pad: bool = False


class BoardTop(Elaboratable):
    """``linked`` on a board: the ``sync`` domain from the board clock (through a PLL when one is given),
    reset from ``reset_button`` (and while the PLL is not locked) through a reset synchronizer, the link on the
    board's USB serial UART (``uart`` 0), LED 0 lit on an error (the block's sticky ``error`` or the link's),
    LED 1 while the block is busy."""

    def __init__(self, linked: LinkedBlock, clock: BoardClock, reset_button: str) -> None:
        self.linked, self.clock, self.reset_button = linked, clock, reset_button

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = ClockDomain("sync")
        clk_pin = platform.request(platform.default_clk, dir="-")
        locked = Signal(init=1)
        if self.clock.pll_verilog is None:
            m.submodules.clk_buf = clk_buf = io.Buffer("i", clk_pin)
            m.d.comb += ClockSignal("sync").eq(clk_buf.i)
        else:
            platform.add_file("pll.v", self.clock.pll_verilog)
            clk_in, clk_out, lock = self.clock.pll_ports
            if self.clock.pll_on_pad:
                source = clk_pin.io
            else:
                m.submodules.clk_buf = clk_buf = io.Buffer("i", clk_pin)
                source = clk_buf.i
            m.submodules.pll = Instance("pll", **{f"i_{clk_in}": source, f"o_{clk_out}": ClockSignal("sync"),
                                                  f"o_{lock}": locked})

        m.submodules.button = button = io.Buffer("i", platform.request(self.reset_button, 0, dir="-"))
        m.submodules.reset_sync = ResetSynchronizer(button.i | ~locked, domain="sync")

        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_rx = rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = tx = io.Buffer("o", uart.tx)
        m.submodules.link = link = self.linked
        m.d.comb += [link.rx.eq(rx.i), tx.o.eq(link.tx)]

        m.submodules.led_error = led_error = io.Buffer("o", platform.request("led", 0, dir="-"))
        m.submodules.led_busy = led_busy = io.Buffer("o", platform.request("led", 1, dir="-"))
        m.d.comb += [led_error.o.eq(link.error | link.link_error), led_busy.o.eq(link.busy)]
        return m
