"""The host client's blocking driver and frame decoding, against scripted replies (the protocol itself is verified
against the RTL in ``verif/board``)."""

import pytest

from host import client
from rtl.board import protocol as p

MANIFEST = {"design": {"streams": [{"name": "weights"}, {"name": "out"}],
                       "ports": [{"name": "busy", "direction": "output", "width": 1},
                                 {"name": "out__valid", "direction": "output", "width": 1},
                                 {"name": "error", "direction": "output", "width": 1},
                                 {"name": "nonzero_macs", "direction": "output", "width": 12}]}}


class Scripted:
    """A transport that answers each request with the next scripted frame."""

    def __init__(self, replies):
        self.replies, self.sent, self.pending = list(replies), [], b""

    def write(self, data):
        self.sent.append(bytes(data))
        self.pending += self.replies.pop(0) if self.replies else b""

    def read(self, size=1):
        out, self.pending = self.pending[:size], self.pending[size:]
        return out


def test_info_and_status_over_a_blocking_transport():
    info = [p.VERSION, 2, 1, 1, 5, 10, 64, 0, 3]
    status = bytes([0b100, 0b101, 0x34, 0x12])  # link flags, then the status ports packed LSB first
    board = client.Board(Scripted([b"\x00\xff" + p.frame(p.INFO | p.REPLY, bytes(info)),
                                   p.frame(p.STATUS | p.REPLY, status)]), MANIFEST)
    got = board.info()
    assert got.input_bytes == (1, 5) and got.output_bytes == (10,) and got.max_payload == 64
    assert board.transport.sent[0] == p.frame(p.INFO)
    # status bits after the flags byte: busy (1 bit), error (1 bit), nonzero_macs (12 bits), LSB first
    word = int.from_bytes(status[1:], "little")
    assert board.status() == {"link_flags": 0b100, "busy": word & 1, "error": word >> 1 & 1,
                              "nonzero_macs": word >> 2 & 0xFFF}


def test_error_replies_and_silence_raise():
    board = client.Board(Scripted([p.frame(p.ERROR, bytes([p.BAD_CHECKSUM, p.INFO]))]), MANIFEST)
    with pytest.raises(client.LinkError, match="bad checksum"):
        board.info()
    with pytest.raises(client.LinkError, match="no reply"):
        board.info()
    corrupt = bytearray(p.frame(p.INFO | p.REPLY, b"\x01"))
    corrupt[-1] ^= 0xFF
    with pytest.raises(client.LinkError, match="checksum"):
        client.Board(Scripted([bytes(corrupt)]), MANIFEST).info()
