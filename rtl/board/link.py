"""A generated block behind a UART host link: the framed protocol of :mod:`rtl.board.protocol` drives the block's
own valid/ready streams and reads its status ports."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from amaranth.hdl import Array, Cat, Const, Module, Mux, ResetInserter, Shape, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..common.validate import check_int
from . import protocol as p
from .uart import UartRx, UartTx


@dataclass(frozen=True)
class HostLinkConfig:
    """The host link's parameters.

    Attributes
    ----------
    divisor : int
        Clock cycles per UART bit (clock frequency / baud rate), 4 or more.
    max_payload : int
        Bytes of the frame buffer: the longest request or reply payload (8..4096).
    frame_timeout_bits : int
        A frame's bytes must follow each other within this many bit times; a longer gap ends the frame with a
        ``TIMEOUT`` error reply (a frame cut short never hangs the link).
    stall_limit : int
        Cycles a WRITE waits on a stream that takes no beat before it answers ``WRITE_STALLED``.
    """

    divisor: int = 4
    max_payload: int = 256
    frame_timeout_bits: int = 400
    stall_limit: int = 1 << 16

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_int(owner, "divisor", self.divisor, 4, 1 << 24)
        check_int(owner, "max_payload", self.max_payload, 8, 4096)
        check_int(owner, "frame_timeout_bits", self.frame_timeout_bits, 20, 1 << 20)
        check_int(owner, "stall_limit", self.stall_limit, 1, 1 << 30)


def _is_stream(member: wiring.Member) -> bool:
    return member.is_signature and set(member.signature.members.keys()) == {"payload", "valid", "ready"}


def _times(value, constant: int):
    """``value * constant`` as shifted additions (control logic; no multiplier for synthesis to map)."""
    terms = [value << k for k in range(constant.bit_length()) if constant >> k & 1]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


class LinkedBlock(wiring.Component):
    """``block`` with its streams and status ports behind the host link (UART RX -> frame parser -> block ->
    frame writer -> UART TX).

    The block's ``In`` streams are the link's write streams (index order = the block's port order), its ``Out``
    streams the read streams, its other ``Out`` ports (``busy``, ``error``, counters) the STATUS bytes. A block
    with a plain ``In`` port other than its streams cannot be driven and is refused. One frame buffer
    (``max_payload`` bytes, one memory) holds a request's payload and a READ's reply. A RESET request resets the
    block only; ``link_error`` (sticky until then) is set by a lost byte, a framing error or any bad frame.

    Ports: ``rx`` (in), ``tx`` (out), ``busy`` and ``error`` (the block's, for LEDs), ``link_error``.
    """

    def __init__(self, block: wiring.Component, config: HostLinkConfig) -> None:
        self.block, self.config = block, config
        self.inputs, self.outputs, self.status_ports = [], [], []
        for name, member in block.signature.members.items():
            if _is_stream(member):
                width = Shape.cast(member.signature.members["payload"].shape).width
                (self.inputs if member.flow == In else self.outputs).append((name, width))
            elif member.flow == Out and not member.is_signature:
                self.status_ports.append((name, Shape.cast(member.shape).width))
            else:
                raise ValueError(f"{type(block).__name__} port {name!r} is neither a stream nor a status output: "
                                 "the host link drives streams and reads status ports only")
        widest = max(p.beat_bytes(w) for _, w in self.inputs + self.outputs)
        if config.max_payload < 2 + widest:
            raise ValueError(f"HostLinkConfig.max_payload must be at least {2 + widest} for a beat of "
                             f"{type(block).__name__} ({widest} bytes) with its header, got {config.max_payload}")
        self.status_bytes = 1 + p.beat_bytes(sum(w for _, w in self.status_ports))
        #: High in the cycle a RESET request resets the block and its input buffers.
        self.soft_reset = Signal()
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1), "busy": Out(1), "error": Out(1),
                          "link_error": Out(1)})

    @property
    def info(self) -> list[int]:
        """The INFO reply's payload (see :mod:`rtl.board.protocol`)."""
        beats = [p.beat_bytes(w) for _, w in self.inputs + self.outputs]
        mp = self.config.max_payload
        return [p.VERSION, len(self.inputs), len(self.outputs), *beats, mp & 0xFF, mp >> 8, self.status_bytes]

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        soft_reset = self.soft_reset
        m.submodules.block = ResetInserter(soft_reset)(self.block)
        m.submodules.uart_rx = rx = UartRx(cfg.divisor)
        m.submodules.uart_tx = tx = UartTx(cfg.divisor)
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx)]
        m.submodules.buffer = buf = Memory(shape=8, depth=cfg.max_payload, init=[])
        wr, rd = buf.write_port(), buf.read_port()

        # Each input stream is driven from a one-beat buffer (reset with the block): a beat the state machine
        # hands over stays offered until the block takes it, also after a WRITE gave up waiting and answered
        # WRITE_STALLED (that beat counts as taken), so the block's streams keep the stream rules.
        ins = []
        for name, width in self.inputs:
            beat = SyncFIFOBuffered(width=width, depth=1)
            m.submodules[f"{name}_beat"] = ResetInserter(soft_reset)(beat)
            block_in = getattr(self.block, name)
            m.d.comb += [block_in.valid.eq(beat.r_rdy), block_in.payload.eq(beat.r_data),
                         beat.r_en.eq(block_in.ready)]
            push = stream.Signature(width).flip().create()  # the state machine's side: valid, ready, payload
            m.d.comb += [beat.w_en.eq(push.valid), push.ready.eq(beat.w_rdy), beat.w_data.eq(push.payload)]
            ins.append((push, beat))
        pending = Cat(*(beat.r_rdy for _, beat in ins))
        m.d.comb += [self.busy.eq(getattr(self.block, "busy", Const(0)) | pending.any()),
                     self.error.eq(getattr(self.block, "error", Const(0)))]
        ins = [push for push, _ in ins]
        outs = [getattr(self.block, name) for name, _ in self.outputs]
        in_bytes = [p.beat_bytes(w) for _, w in self.inputs]
        out_bytes = [p.beat_bytes(w) for _, w in self.outputs]

        # --- request fields and counters
        opcode, length, index = Signal(8), Signal(16), Signal(16)
        total = Signal(8)  # running byte sum of the frame after SYNC
        stream_id, count = Signal(8), Signal(8)
        left = Signal(8)  # beats still to move (a down-counter: no adder on the handshake); count - left are done
        timeout = Signal(range(cfg.frame_timeout_bits * cfg.divisor + 1))
        stall = Signal(range(cfg.stall_limit + 1))
        flags = Signal(3)
        beat_in = Signal(8 * max(in_bytes, default=1))
        beat_out = Signal(8 * max(out_bytes, default=1))
        byte_no = Signal(range(max(in_bytes + out_bytes) + 1))
        m.d.comb += self.link_error.eq(flags.any())
        with m.If(rx.overrun):
            m.d.sync += flags[p.FLAG_OVERRUN].eq(1)
        with m.If(rx.frame_error):
            m.d.sync += flags[p.FLAG_FRAMING].eq(1)

        # --- the reply: header, body (small registers or the frame buffer), checksum
        reply_op = Signal(8)
        reply_len = Signal(16)
        small = Array(Signal(8, name=f"reply_{i}") for i in range(4))
        status_width = sum(w for _, w in self.status_ports)
        status = Cat(*(getattr(self.block, name) for name, _ in self.status_ports),
                     Const(0, 8 * (self.status_bytes - 1) - status_width))
        status_q = Signal(len(status))  # a snapshot, so that a counter's bytes belong to one value
        status_bytes = Array(Cat(flags) if i == 0 else status_q.word_select(i - 1, 8)
                             for i in range(self.status_bytes))
        info = Array(Const(b, 8) for b in self.info)
        reply_kind = Signal(2)  # 0: small registers, 1: frame buffer, 2: INFO constants, 3: STATUS bytes
        pos = Signal(16)
        sent_sum = Signal(8)
        body_byte = Signal(8)

        states = ["HUNT", "OPCODE", "LEN0", "LEN1", "PAYLOAD", "CHECKSUM", "DISPATCH", "COUNT", "CHECK_STREAM",
                  "LOAD", "PUSH", "PULL", "STORE", "READ_DONE", "REPLY", "SEND"]
        current = Signal(range(len(states)))

        def go(name):
            m.d.sync += current.eq(states.index(name))

        def reply(op, payload=(), kind=0, length=None):
            """Send a reply next: ``payload`` from the small registers (kind 0), or ``length`` bytes of the frame
            buffer (1), the INFO constants (2) or the STATUS snapshot (3)."""
            m.d.sync += [reply_op.eq(op), reply_len.eq(len(payload) if length is None else length),
                         reply_kind.eq(kind), pos.eq(0), sent_sum.eq(0)]
            m.d.sync += [small[i].eq(v) for i, v in enumerate(payload)]
            go("REPLY")

        def error(code):
            m.d.sync += flags[p.FLAG_BAD_FRAME].eq(1)
            reply(p.ERROR, [code, opcode])

        in_frame = Signal()
        with m.If(in_frame & ~rx.bytes.valid):
            m.d.sync += timeout.eq(timeout + 1)
        with m.Else():
            m.d.sync += timeout.eq(0)
        timed_out = timeout == cfg.frame_timeout_bits * cfg.divisor

        header = Array([Const(p.SYNC, 8), reply_op, reply_len[:8], reply_len[8:]])
        with m.Switch(reply_kind):
            with m.Case(0):
                m.d.comb += body_byte.eq(small[(pos - 4)[:2]])
            with m.Case(1):
                m.d.comb += body_byte.eq(rd.data)
            with m.Case(2):
                m.d.comb += body_byte.eq(info[pos - 4])
            with m.Case(3):
                m.d.comb += body_byte.eq(status_bytes[pos - 4])
        byte = Signal(8)
        with m.If(pos < 4):
            m.d.comb += byte.eq(header[pos[:2]])
        with m.Elif(pos < 4 + reply_len):
            m.d.comb += byte.eq(body_byte)
        with m.Else():
            m.d.comb += byte.eq(-sent_sum)
        out_byte = Signal(8)
        m.d.comb += tx.bytes.payload.eq(out_byte)
        for (_, width), s in zip(self.inputs, ins, strict=True):
            m.d.comb += s.payload.eq(beat_in[:width])

        # Every state first drives every combinational output of the state machine to its idle value (one
        # complete case per output in the Verilog), then overrides what it uses.
        idle = [rd.addr.eq(0), wr.en.eq(0), wr.addr.eq(index), wr.data.eq(rx.bytes.payload), rx.bytes.ready.eq(0),
                in_frame.eq(0), soft_reset.eq(0), tx.bytes.valid.eq(0), *(s.valid.eq(0) for s in ins),
                *(s.ready.eq(0) for s in outs)]

        # The state machine is an if/elif chain over the state register (the last state its else), so that the
        # Verilog has no case statement that leaves values uncovered.
        @contextmanager
        def state(name):
            i = states.index(name)
            with m.If(current == i) if i == 0 else m.Else() if i == len(states) - 1 else m.Elif(current == i):
                m.d.comb += idle
                yield

        if True:
            with state("HUNT"):
                m.d.comb += rx.bytes.ready.eq(1)
                with m.If(rx.bytes.valid & (rx.bytes.payload == p.SYNC)):
                    m.d.sync += [total.eq(0), index.eq(0)]
                    go("OPCODE")
            for name in ("OPCODE", "LEN0", "LEN1", "PAYLOAD"):
                with state(name):
                    m.d.comb += [rx.bytes.ready.eq(1), in_frame.eq(1)]
                    with m.If(rx.bytes.valid):
                        m.d.sync += total.eq(total + rx.bytes.payload)
                        if name == "OPCODE":
                            m.d.sync += opcode.eq(rx.bytes.payload)
                            go("LEN0")
                        elif name == "LEN0":
                            m.d.sync += length[:8].eq(rx.bytes.payload)
                            go("LEN1")
                        elif name == "LEN1":
                            m.d.sync += length[8:].eq(rx.bytes.payload)
                            with m.If(Cat(length[:8], rx.bytes.payload) == 0):
                                go("CHECKSUM")
                            with m.Else():
                                go("PAYLOAD")
                        else:
                            # a payload longer than the buffer is received and counted but not stored
                            m.d.comb += wr.en.eq(index < cfg.max_payload)
                            m.d.sync += index.eq(index + 1)
                            with m.If(index + 1 == length):
                                go("CHECKSUM")
                    with m.Elif(timed_out):
                        error(p.TIMEOUT)
            with state("CHECKSUM"):
                m.d.comb += [rx.bytes.ready.eq(1), in_frame.eq(1)]
                with m.If(rx.bytes.valid):
                    with m.If((total + rx.bytes.payload)[:8] != 0):
                        error(p.BAD_CHECKSUM)
                    with m.Elif(length > cfg.max_payload):
                        error(p.BAD_LENGTH)
                    with m.Else():
                        m.d.sync += index.eq(0)
                        go("DISPATCH")
                with m.Elif(timed_out):
                    error(p.TIMEOUT)
            with state("DISPATCH"):
                # rd.addr was 0 last cycle: rd.data is payload[0] now
                m.d.comb += rd.addr.eq(1)
                m.d.sync += stream_id.eq(rd.data)
                with m.If((opcode == p.INFO) | (opcode == p.STATUS) | (opcode == p.RESET)):
                    with m.If(length != 0):
                        error(p.BAD_LENGTH)
                    with m.Elif(opcode == p.INFO):
                        reply(p.INFO | p.REPLY, kind=2, length=len(self.info))
                    with m.Elif(opcode == p.STATUS):
                        m.d.sync += status_q.eq(status)
                        reply(p.STATUS | p.REPLY, kind=3, length=self.status_bytes)
                    with m.Else():
                        m.d.comb += soft_reset.eq(1)
                        m.d.sync += flags.eq(0)
                        reply(p.RESET | p.REPLY)
                with m.Elif((opcode == p.WRITE) | (opcode == p.READ)):
                    with m.If(length < 2):
                        error(p.BAD_LENGTH)
                    with m.Else():
                        go("COUNT")
                with m.Else():
                    error(p.BAD_OPCODE)
            with state("COUNT"):
                # rd.data is payload[1]: the beat count (registered before it is checked)
                m.d.sync += [count.eq(rd.data), left.eq(rd.data), byte_no.eq(0), stall.eq(0),
                             index.eq(2)]
                go("CHECK_STREAM")
            with state("CHECK_STREAM"):
                m.d.comb += rd.addr.eq(2)
                with m.If(opcode == p.WRITE):
                    with m.If(stream_id >= len(ins)):
                        error(p.BAD_STREAM)
                    for i, nb in enumerate(in_bytes):
                        with m.If(stream_id == i):
                            with m.If(length != 2 + _times(count, nb)):
                                error(p.BAD_LENGTH)
                            with m.Elif(count == 0):
                                reply(p.WRITE | p.REPLY, [p.WRITE_OK, 0])
                            with m.Else():
                                go("LOAD")
                with m.Else():
                    with m.If(stream_id >= len(outs)):
                        error(p.BAD_STREAM)
                    for j, nb in enumerate(out_bytes):
                        with m.If(stream_id == j):
                            with m.If(1 + _times(count, nb) > cfg.max_payload):
                                error(p.BAD_LENGTH)
                            with m.Else():
                                m.d.sync += index.eq(1)
                                go("PULL")
            with state("LOAD"):
                # one byte of the next beat a cycle: rd.data is payload[index]
                for k in range(len(beat_in) // 8):
                    with m.If(byte_no == k):
                        m.d.sync += beat_in[8 * k:8 * k + 8].eq(rd.data)
                m.d.comb += rd.addr.eq(index + 1)
                m.d.sync += [index.eq(index + 1), byte_no.eq(byte_no + 1)]
                for i, nb in enumerate(in_bytes):
                    with m.If((stream_id == i) & (byte_no == nb - 1)):
                        m.d.sync += [byte_no.eq(0), stall.eq(0)]
                        go("PUSH")
            with state("PUSH"):
                m.d.comb += rd.addr.eq(index)
                for i, s in enumerate(ins):
                    with m.If(stream_id == i):
                        m.d.comb += s.valid.eq(1)
                        with m.If(s.ready):
                            m.d.sync += left.eq(left - 1)
                            with m.If(left == 1):
                                reply(p.WRITE | p.REPLY, [p.WRITE_OK, count])
                            with m.Else():
                                go("LOAD")
                        with m.Elif(stall == cfg.stall_limit):
                            reply(p.WRITE | p.REPLY, [p.WRITE_STALLED, count - left])
                        with m.Else():
                            m.d.sync += stall.eq(stall + 1)
            with state("PULL"):
                for j, s in enumerate(outs):
                    with m.If(stream_id == j):
                        with m.If(s.valid & (left != 0)):
                            m.d.comb += s.ready.eq(1)
                            m.d.sync += [beat_out.eq(s.payload), left.eq(left - 1),
                                         byte_no.eq(0)]
                            go("STORE")
                        with m.Else():
                            go("READ_DONE")
            with state("STORE"):
                m.d.comb += [wr.data.eq(beat_out.word_select(byte_no, 8)), wr.en.eq(1)]
                m.d.sync += [index.eq(index + 1), byte_no.eq(byte_no + 1)]
                for j, nb in enumerate(out_bytes):
                    with m.If((stream_id == j) & (byte_no == nb - 1)):
                        go("PULL")
            with state("READ_DONE"):
                m.d.comb += [wr.addr.eq(0), wr.data.eq(count - left), wr.en.eq(1)]
                reply(p.READ | p.REPLY, kind=1, length=index)
            with state("REPLY"):
                # bytes 0..3 header, 4..4+len-1 body, then the checksum; each byte is registered before it goes
                # to the UART (the buffer's address for it was presented the cycle before)
                m.d.comb += rd.addr.eq(pos - 4)
                m.d.sync += out_byte.eq(byte)
                go("SEND")
            with state("SEND"):
                m.d.comb += tx.bytes.valid.eq(1)
                with m.If(tx.bytes.ready):
                    m.d.comb += rd.addr.eq(pos - 3)
                    m.d.sync += [pos.eq(pos + 1), sent_sum.eq(Mux(pos == 0, 0, sent_sum + out_byte))]
                    with m.If(pos == 4 + reply_len):
                        go("HUNT")
                    with m.Else():
                        go("REPLY")
        return m
