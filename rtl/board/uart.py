"""8N1 UART receiver and transmitter with byte streams, for the host link."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from ..common.validate import check_int


class UartRx(wiring.Component):
    """Receives 8N1 bytes on ``rx`` (idle high, LSB first) at ``divisor`` clock cycles a bit.

    The line goes through a two-flip-flop synchronizer; a start bit is taken on a low level and checked again
    half a bit later (a glitch shorter than that is ignored); every bit is sampled in its middle. After a good
    stop bit the receiver is idle at once, ready for a start bit half a bit later. A byte whose stop bit is low
    raises ``frame_error`` for one cycle and is dropped; the receiver then waits for the line to go high.
    ``bytes`` cannot be stalled (a UART has no flow control): a byte its sink does not take in the cycle it is
    valid raises ``overrun`` for one cycle and is lost.
    """

    def __init__(self, divisor: int) -> None:
        check_int("UartRx", "divisor", divisor, 4, 1 << 24)
        self.divisor = divisor
        super().__init__({
            "rx": In(1, init=1),
            "bytes": Out(stream.Signature(8)),
            "frame_error": Out(1),
            "overrun": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        line = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, line, init=1)
        timer = Signal(range(self.divisor))
        bit = Signal(range(9))
        shift = Signal(8)
        m.d.sync += [self.frame_error.eq(0), self.overrun.eq(0)]
        with m.If(self.bytes.valid & self.bytes.ready):
            m.d.sync += self.bytes.valid.eq(0)
        with m.If(self.bytes.valid & ~self.bytes.ready):
            m.d.sync += [self.bytes.valid.eq(0), self.overrun.eq(1)]
        # states as an if/elif chain (no case statement with uncovered values in the Verilog)
        idle, start, data, stop = range(4)
        state = Signal(range(4))
        with m.If(state == idle):
            with m.If(~line):
                m.d.sync += [timer.eq(self.divisor // 2 - 1), state.eq(start)]
        with m.Elif(state == start):
            with m.If(timer != 0):
                m.d.sync += timer.eq(timer - 1)
            with m.Elif(line):
                m.d.sync += state.eq(idle)
            with m.Else():
                m.d.sync += [timer.eq(self.divisor - 1), bit.eq(0), state.eq(data)]
        with m.Elif(state == data):
            with m.If(timer != 0):
                m.d.sync += timer.eq(timer - 1)
            with m.Else():
                m.d.sync += timer.eq(self.divisor - 1)
                with m.If(bit == 8):
                    # a good stop bit: back to idle at once (the next start bit may begin half a bit later)
                    with m.If(line):
                        m.d.sync += [self.bytes.payload.eq(shift), self.bytes.valid.eq(1), state.eq(idle)]
                    with m.Else():
                        m.d.sync += [self.frame_error.eq(1), state.eq(stop)]
                with m.Else():
                    m.d.sync += [shift.eq(Cat(shift[1:], line)), bit.eq(bit + 1)]
        with m.Else():
            # after a low stop bit (a framing error or a break): wait for the line to go idle
            with m.If(line):
                m.d.sync += state.eq(idle)
        return m


class UartTx(wiring.Component):
    """Sends the bytes of ``bytes`` as 8N1 on ``tx`` (idle high) at ``divisor`` clock cycles a bit."""

    def __init__(self, divisor: int) -> None:
        check_int("UartTx", "divisor", divisor, 4, 1 << 24)
        self.divisor = divisor
        super().__init__({"bytes": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self.divisor))
        frame = Signal(10, init=0x3FF)  # stop bit, data LSB first, start bit: shifted out LSB first
        left = Signal(range(11))
        m.d.comb += [self.tx.eq(frame[0]), self.bytes.ready.eq(left == 0)]
        with m.If(self.bytes.valid & self.bytes.ready):
            m.d.sync += [frame.eq(Cat(0, self.bytes.payload, 1)), left.eq(10), timer.eq(self.divisor - 1)]
        with m.Elif(left != 0):
            with m.If(timer != 0):
                m.d.sync += timer.eq(timer - 1)
            with m.Else():
                m.d.sync += [frame.eq(Cat(frame[1:], 1)), left.eq(left - 1), timer.eq(self.divisor - 1)]
        return m
