"""cocotb bench of a block behind the UART host link (``rtl.board.LinkedBlock``).

The host client's own request generators (``host.client``) run over a bit-level UART model (cocotbext-uart) on
the link's ``rx`` and ``tx`` pins at the link's baud divisor: GEMVs against the golden model, malformed and cut
short frames, a slow host that lets the block's output back up, a RESET in the middle of a GEMV.
"""

from __future__ import annotations

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, with_timeout
from cocotbext.uart import UartSink, UartSource

from host import client
from rtl.board import protocol as p
from verif import coverage
from verif.bench import CLOCK_NS, Bench

TIMEOUT = {"timeout_time": 200, "timeout_unit": "ms"}
#: Replies the board sends (``link.reply``): each request's reply, a WRITE whose stream stopped taking beats,
#: and an ERROR of each code.
REPLIES = (*p.OPCODES, "WRITE_STALLED", *(f"ERROR {name}" for name in p.ERRORS.values()))


def cover_reply(op: int, payload: bytes) -> None:
    names = {code | p.REPLY: name for name, code in p.OPCODES.items()}
    if op == p.ERROR:
        value = f"ERROR {p.ERRORS[payload[0]]}"
    elif op == p.WRITE | p.REPLY and payload[0] == p.WRITE_STALLED:
        value = "WRITE_STALLED"
    else:
        value = names[op]
    coverage.point("link.reply", REPLIES)(value)


class Host:
    """The UART model on the pins and the client's exchanges driven over it."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.link = bench.manifest["link"]
        self.design = bench.manifest["design"]
        baud = 1e9 / (self.link["divisor"] * CLOCK_NS)
        self.tx = UartSource(bench.dut.rx, baud=baud, bits=8, stop_bits=1)
        self.rx = UartSink(bench.dut.tx, baud=baud, bits=8, stop_bits=1)
        self.byte_ns = 10 * self.link["divisor"] * CLOCK_NS
        self.think_cycles = (0, 0)  # a slow host waits this many cycles (random range) before each request
        self.stalled_writes = 0  # WRITE replies that said the stream stopped taking beats

    async def reply(self, decoder: client.FrameDecoder | None = None) -> client.Reply:
        """The next frame from the board; a board that stays silent fails the test."""
        decoder = decoder or client.FrameDecoder()
        while True:
            # a READ reply of up to max_payload bytes, plus the time the block takes to stall a WRITE
            limit = self.byte_ns * (self.link["max_payload"] + 16) + self.link["stall_limit"] * CLOCK_NS * 2
            byte = await with_timeout(self.rx.read(1), limit, "ns")
            frame = decoder.feed(byte[0])
            if frame is not None:
                cover_reply(*frame)
                return frame

    async def send(self, data: bytes) -> None:
        await self.tx.write(data)
        await self.tx.wait()

    async def run(self, steps: client.Exchange):
        """Drive one of the client's request generators to its end; return its value."""
        lo, hi = self.think_cycles
        try:
            out = next(steps)
            while True:
                if hi:
                    await ClockCycles(self.bench.dut.clk, int(self.bench.rng.integers(lo, hi + 1)))
                await self.send(out)
                reply = await self.reply()
                self.stalled_writes += reply[0] == p.WRITE | p.REPLY and reply[1][0] == p.WRITE_STALLED
                out = steps.send(reply)
        except StopIteration as stop:
            return stop.value

    async def expect_error(self, data: bytes, code: int) -> None:
        await self.send(data)
        op, payload = await self.reply()
        assert op == p.ERROR and payload[0] == code, \
            f"expected error {p.ERRORS[code]!r} for {data.hex()}, got opcode {op:#x} payload {payload.hex()}"

    async def gemv(self, m: int, k: int, chunk: int | None = None, read_chunk: int | None = None) -> None:
        """A random GEMV through the board; the client checks it against the golden model, and so does this."""
        rng, cfg = self.bench.rng, self.design["config"]
        lo, hi = (-1, 1) if cfg["weight_kind"] == "ternary" else (-128, 127)
        w = rng.integers(lo, hi + 1, size=(m, k))
        bits = cfg["act_bits"]
        x = rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=k)
        y = await self.run(client.gemv(self.design, w, x, chunk, read_chunk))
        assert np.array_equal(y, w @ x), f"W{w.shape} x: board {y}, numpy {w @ x}"

    async def status(self) -> dict[str, int]:
        return await self.run(client.status(self.design))


async def start(dut) -> Host:
    return Host(await Bench.start(dut))


@cocotb.test(**TIMEOUT)
async def info_matches_the_manifest(dut):
    host = await start(dut)
    info = await host.run(client.info())
    assert list(info.raw) == host.link["info"], (info, host.link["info"])
    status = await host.status()
    assert status["link_flags"] == 0 and status.get("error", 0) == 0


@cocotb.test(**TIMEOUT)
async def gemvs_equal_the_golden_model(dut):
    host = await start(dut)
    cfg = host.design["config"]
    r, c = cfg["rows"], cfg["cols"]
    macs_before = (await host.status()).get("nonzero_macs")
    for m, k in ((c, r), (2 * c + 1, 3 * r + 1), (1, 2 * r)):
        await host.gemv(m, k)
    status = await host.status()
    assert status["link_flags"] == 0 and status.get("error", 0) == 0 and status.get("busy", 0) == 0
    if macs_before is not None:
        assert status["nonzero_macs"] > macs_before


@cocotb.test(**TIMEOUT)
async def malformed_frames_get_error_replies(dut):
    host = await start(dut)
    good = p.frame(p.INFO)
    bad_sum = bytearray(good)
    bad_sum[-1] ^= 0x01
    big = host.link["max_payload"] + 1
    cases = [
        (bytes(bad_sum), p.BAD_CHECKSUM),
        (p.frame(0x42), p.BAD_OPCODE),
        (p.frame(p.INFO, b"\x00"), p.BAD_LENGTH),
        (p.frame(p.WRITE, bytes([0, 2, 1])), p.BAD_LENGTH),  # two beats announced, one byte sent
        (p.frame(p.WRITE, b"\x00"), p.BAD_LENGTH),
        (p.frame(p.WRITE, bytes([9, 0])), p.BAD_STREAM),
        (p.frame(p.READ, bytes([5, 1])), p.BAD_STREAM),
        (p.frame(p.READ, bytes([0, 255])), p.BAD_LENGTH) if 255 * 2 > host.link["max_payload"] else None,
        (p.frame(p.WRITE, bytes(big)), p.BAD_LENGTH),  # longer than the frame buffer
    ]
    for case in filter(None, cases):
        await host.expect_error(*case)
        await host.gemv(3, 5)
    # noise before a frame is skipped
    await host.send(bytes([0x00, 0xFF, 0x13]))
    await host.gemv(3, 5)
    assert (await host.status())["link_flags"] & (1 << p.FLAG_BAD_FRAME)


@cocotb.test(**TIMEOUT)
async def garbage_right_before_a_request(dut):
    """Noise with no silence before a request. Without a SYNC byte in it the request is answered as usual. With
    one, the request's first bytes are read as the rest of the noise's frame: exactly one ERROR reply comes (the
    request is not carried out) and the host sends the request again, as the protocol says."""
    host = await start(dut)
    info = p.frame(p.INFO)
    await host.send(bytes([0x00, 0xFF, 0x13]) + info)
    op, _ = await host.reply()
    assert op == p.INFO | p.REPLY, f"expected the INFO reply after SYNC-free noise, got opcode {op:#x}"
    for noise in (bytes([0x13, p.SYNC]), bytes([p.SYNC, p.WRITE]), bytes([p.SYNC, p.INFO, 0x00])):
        await host.send(noise + info)
        op, payload = await host.reply()
        assert op == p.ERROR and payload[0] in p.ERRORS, f"noise {noise.hex()}: got opcode {op:#x}"
        await host.gemv(3, 5)  # resent requests are answered, and no reply of the lost one is left over
    assert (await host.status())["link_flags"] & (1 << p.FLAG_BAD_FRAME)


@cocotb.test(**TIMEOUT)
async def frame_cut_short_times_out_and_recovers(dut):
    host = await start(dut)
    full = p.frame(p.WRITE, bytes([1, 1]) + bytes(host.link["info"][4]))
    for cut in (1, 3, len(full) - 1):
        await host.expect_error(full[:cut], p.TIMEOUT)
        await host.gemv(2, 7)


@cocotb.test(**TIMEOUT)
async def slow_host_backs_up_the_output(dut):
    """Requests of one beat each, with the host waiting between them: the block's output stream stalls
    (nobody reads it) and the WRITEs stall until a READ drains it; no beat is lost."""
    host = await start(dut)
    host.think_cycles = (0, 40 * host.link["divisor"])
    cfg = host.design["config"]
    await host.gemv(2 * cfg["cols"], 2 * cfg["rows"] + 1, chunk=1, read_chunk=1)
    host.think_cycles = (0, 0)
    await host.gemv(3 * cfg["cols"], cfg["rows"] * 4, chunk=64, read_chunk=1)
    assert host.stalled_writes > 0, "the output never backed up into the input streams"
    assert (await host.status())["link_flags"] == 0


@cocotb.test(**TIMEOUT)
async def reset_request_in_the_middle_of_a_gemv(dut):
    host = await start(dut)
    steps = client.gemv(host.design, np.ones((4, 40), dtype=int), np.ones(40, dtype=int), chunk=1)
    out = next(steps)
    for _ in range(6):  # INFO, then a few single-beat WRITEs
        await host.send(out)
        out = steps.send(await host.reply())
    steps.close()
    await host.run(client.request(p.RESET))
    await host.gemv(5, 9)
    status = await host.status()
    assert status["link_flags"] == 0 and status.get("error", 0) == 0
