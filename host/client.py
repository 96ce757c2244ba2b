"""Host side of the board's UART link (protocol: :mod:`rtl.board.protocol`).

The protocol logic is written once, as generators that yield request frames and receive reply frames
(``(opcode, payload)``); :func:`run` drives them over a blocking byte transport (pyserial on a real board) and a
bench drives the same generators over its simulated UART. So the simulation test sends the host client's own
bytes.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gen.payload import PayloadCodec
from golden import ternary
from rtl.board import protocol as p

Reply = tuple[int, bytes]
Exchange = Generator[bytes, Reply, Any]


class LinkError(RuntimeError):
    """The board answered with an error frame, an unexpected frame, or stopped making progress."""


class FrameDecoder:
    """Bytes in, complete frames out: skips bytes until SYNC, checks the checksum."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, byte: int) -> Reply | None:
        if not self._buf and byte != p.SYNC:
            return None
        self._buf.append(byte)
        if len(self._buf) < 4:
            return None
        length = self._buf[2] | self._buf[3] << 8
        if len(self._buf) < 5 + length:
            return None
        body, check = bytes(self._buf[1:4 + length]), self._buf[4 + length]
        self._buf.clear()
        if p.checksum(body) != check:
            raise LinkError(f"reply checksum {check:#04x}, expected {p.checksum(body):#04x}")
        return body[0], body[3:]


def request(opcode: int, payload: bytes = b"") -> Exchange:
    """One request; returns the reply payload, raises :class:`LinkError` on an error reply."""
    op, reply = yield p.frame(opcode, payload)
    if op == p.ERROR:
        code, op_seen = (reply + b"\0\0")[:2]
        raise LinkError(f"board error: {p.ERRORS.get(code, code)} (request opcode {op_seen:#04x})")
    if op != opcode | p.REPLY:
        raise LinkError(f"reply opcode {op:#04x} to request {opcode:#04x}")
    return reply


@dataclass(frozen=True)
class Info:
    raw: tuple[int, ...]
    version: int
    input_bytes: tuple[int, ...]
    output_bytes: tuple[int, ...]
    max_payload: int
    status_bytes: int

    @classmethod
    def parse(cls, raw: bytes) -> Info:
        n_in, n_out = raw[1], raw[2]
        beats = raw[3:3 + n_in + n_out]
        rest = raw[3 + n_in + n_out:]
        return cls(tuple(raw), raw[0], tuple(beats[:n_in]), tuple(beats[n_in:]), rest[0] | rest[1] << 8, rest[2])


def info() -> Exchange:
    return Info.parse((yield from request(p.INFO)))


def status(manifest: dict[str, Any]) -> Exchange:
    """The STATUS reply decoded: ``link_flags`` and the block's status ports by name."""
    raw = yield from request(p.STATUS)
    word = int.from_bytes(raw[1:], "little")
    out, offset = {"link_flags": raw[0]}, 0
    for port in _status_ports(manifest):
        out[port["name"]] = (word >> offset) & ((1 << port["width"]) - 1)
        offset += port["width"]
    return out


def _status_ports(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    streams = {s["name"] for s in manifest["streams"]}
    return [q for q in manifest["ports"] if q["direction"] == "output" and q["name"].split("__")[0] not in streams]


def exchange(manifest: dict[str, Any], beats: dict[str, list[int]], expected: int,
             chunk: int | None = None, read_chunk: int | None = None) -> Exchange:
    """Send every input stream's beats and read ``expected`` beats of the (one) output stream.

    Streams take turns: a WRITE of up to ``chunk`` beats per input stream (the rest after WRITE_STALLED), then
    a READ of up to ``read_chunk`` beats the output offers, so a block that needs several streams at once, or
    whose output must drain before it takes more input, always makes progress."""
    board = yield from info()
    sinks = [s for s in manifest["streams"] if s["role"] == "sink"]
    sources = [s for s in manifest["streams"] if s["role"] == "source"]
    widths = (tuple(p.beat_bytes(s["payload"]["width"]) for s in sinks),
              tuple(p.beat_bytes(s["payload"]["width"]) for s in sources))
    if (board.input_bytes, board.output_bytes) != widths or board.version != p.VERSION:
        raise LinkError(f"the board runs another design or protocol: {board}, manifest beats {widths}")
    pending = {i: list(beats.get(s["name"], [])) for i, s in enumerate(sinks)}
    out_bytes = widths[1][0]
    read_max = min(255, (board.max_payload - 1) // out_bytes, read_chunk or 255)
    results: list[int] = []
    idle = 0
    while any(pending.values()) or len(results) < expected:
        progress = False
        for i, queue in pending.items():
            if not queue:
                continue
            nb = widths[0][i]
            n = min(len(queue), 255, (board.max_payload - 2) // nb, chunk or 255)
            payload = bytes([i, n]) + b"".join(v.to_bytes(nb, "little") for v in queue[:n])
            reply = yield from request(p.WRITE, payload)
            del queue[:reply[1]]
            progress |= reply[1] > 0
        want = min(read_max, expected - len(results))
        if want > 0:
            reply = yield from request(p.READ, bytes([0, want]))
            results += [int.from_bytes(reply[1 + k * out_bytes:1 + (k + 1) * out_bytes], "little")
                        for k in range(reply[0])]
            progress |= reply[0] > 0
        idle = 0 if progress else idle + 1
        if idle > 64:
            raise LinkError(f"no progress: {sum(map(len, pending.values()))} beats unsent, "
                            f"{len(results)} of {expected} results read")
    return results


def gemv(manifest: dict[str, Any], w: np.ndarray, x: np.ndarray, chunk: int | None = None,
         read_chunk: int | None = None) -> Exchange:
    """``y = W x`` on a MAC-array board (``W``: M x K weights, ``x``: K activations); returns ``y`` and raises
    :class:`LinkError` unless it equals the golden model's."""
    if manifest["block"] != "mac_array":
        raise LinkError(f"gemv runs on a mac_array board, this one has {manifest['block']}")
    cfg, derived = manifest["config"], manifest["derived"]
    w, x = np.asarray(w, dtype=np.int64), np.asarray(x, dtype=np.int64)
    plan = ternary.stream_plan(x[None, :], w.T, cfg["rows"], cfg["cols"], cfg["dataflow"], cfg["max_tokens"],
                               acc_bits=derived["acc_width"])
    codec = {s["name"]: PayloadCodec(s["payload"]) for s in manifest["streams"]}
    beats = {"weights": [codec["weights"].pack({"": b}) for b in plan.weight_beats],
             "acts": [codec["acts"].pack({"data": d, "first": f, "last": la, "tile_end": e})
                      for d, f, la, e in plan.act_beats]}
    words = yield from exchange(manifest, beats, len(plan.out_beats), chunk, read_chunk)
    cols = cfg["cols"]
    y = np.zeros(-(-w.shape[0] // cols) * cols, dtype=np.int64)
    for word, (_, tile) in zip(words, plan.out_index, strict=True):
        y[tile * cols:(tile + 1) * cols] = codec["out"].array(word, "data")
    y = y[:w.shape[0]]
    expect = ternary.gemm(x[None, :], w.T, derived["acc_width"])[0]
    if not np.array_equal(y, expect):
        raise LinkError(f"board result differs from the golden model at rows {np.flatnonzero(y != expect)[:8]}")
    return y


class Transport(Protocol):
    def write(self, data: bytes) -> Any: ...
    def read(self, size: int = 1) -> bytes: ...


def run(steps: Exchange, transport: Transport) -> Any:
    """Drive ``steps`` over a blocking transport (a ``serial.Serial`` with a read timeout)."""
    decoder = FrameDecoder()
    try:
        out = next(steps)
        while True:
            transport.write(out)
            reply = None
            while reply is None:
                byte = transport.read(1)
                if not byte:
                    raise LinkError("no reply from the board (read timed out)")
                reply = decoder.feed(byte[0])
            out = steps.send(reply)
    except StopIteration as stop:
        return stop.value


class Board:
    """A board built by ``python -m gen bitstream``, on a transport (a ``serial.Serial``):
    ``Board.open("/dev/ttyUSB0", "build/board/ulx3s-85f/mac-ternary-4x4/manifest.json").send_gemv(W, x)``."""

    def __init__(self, transport: Transport, manifest: dict[str, Any]) -> None:
        self.transport, self.manifest = transport, manifest
        self.design = manifest["design"]

    @classmethod
    def open(cls, port: str, manifest_path: str | Path, baud: int | None = None, timeout_s: float = 2.0) -> Board:
        """Open ``port`` at the baud rate the bitstream was built for (its ``report.json``), or ``baud``."""
        import serial  # pyserial

        manifest_path = Path(manifest_path)
        report = manifest_path.parent / "report.json"
        baud = baud or (json.loads(report.read_text())["baud"] if report.exists() else 115200)
        return cls(serial.Serial(port, baud, timeout=timeout_s), json.loads(manifest_path.read_text()))

    def info(self) -> Info:
        return run(info(), self.transport)

    def status(self) -> dict[str, int]:
        return run(status(self.design), self.transport)

    def reset(self) -> None:
        run(request(p.RESET), self.transport)

    def send_gemv(self, w: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``y = W x`` on the board, checked against the golden model (:class:`LinkError` if it differs)."""
        return run(gemv(self.design, w, x), self.transport)

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()
