"""The host link's framed protocol: constants shared by the RTL (``rtl.board.link``) and the host client.

Every frame, both ways: ``SYNC, opcode, length (2 bytes, little-endian), payload (length bytes), checksum``;
the checksum makes the byte sum of opcode, length, payload and checksum 0 modulo 256. The host sends one
request and waits for its reply; the board answers every request with exactly one frame: the request's opcode
with bit 7 set, or ``ERROR``.

========  ===========================================  ==================================================
request   payload                                       reply payload
========  ===========================================  ==================================================
INFO      (none)                                        VERSION, inputs n, outputs m, beat bytes of each
                                                        input then output, max payload (2 bytes), status
                                                        bytes
WRITE     stream index, beat count c, c beats           WRITE_OK or WRITE_STALLED, beats taken (1 byte)
READ      stream index, most beats c                    beats read r (1 byte), r beats
STATUS    (none)                                        link flags (1 byte), then the block's status ports
                                                        (``busy``, ``error``, counters) packed LSB first
RESET     (none)                                        (none); the block is reset, the link is not
========  ===========================================  ==================================================

Beats are the block's stream payloads, little-endian, in whole bytes (``ceil(width / 8)`` each). A WRITE whose
stream stops taking beats for ``stall_limit`` cycles answers WRITE_STALLED with the beats it did take (the host
reads results and sends the rest). A READ takes the beats the output stream offers now, up to ``c``, without
waiting. ``ERROR`` carries an error code and the opcode received.

Between frames the board skips every byte until a ``SYNC``. Noise that contains a ``SYNC`` and runs straight
into a request makes the request's first bytes the rest of a malformed frame: the board answers that frame with
one ``ERROR`` (bad checksum, opcode or length, or a timeout) and does not carry the request out; bytes of the
request left over are skipped as noise. A host that gets an ``ERROR`` for a well-formed request therefore sends
the request again; no silence is needed first.
"""

SYNC = 0x5A
VERSION = 1
REPLY = 0x80

INFO, WRITE, READ, STATUS, RESET = 0x01, 0x02, 0x03, 0x04, 0x05
OPCODES = {"INFO": INFO, "WRITE": WRITE, "READ": READ, "STATUS": STATUS, "RESET": RESET}
ERROR = 0xEE

WRITE_OK, WRITE_STALLED = 0, 1

#: Error codes of an ``ERROR`` reply.
BAD_CHECKSUM, BAD_OPCODE, BAD_LENGTH, BAD_STREAM, TIMEOUT = 1, 2, 3, 4, 5
ERRORS = {BAD_CHECKSUM: "bad checksum", BAD_OPCODE: "unknown opcode", BAD_LENGTH: "bad length",
          BAD_STREAM: "no such stream", TIMEOUT: "frame cut short (inter-byte timeout)"}

#: Bits of the STATUS reply's link flags (sticky until a RESET request).
FLAG_OVERRUN, FLAG_FRAMING, FLAG_BAD_FRAME = 0, 1, 2


def beat_bytes(width: int) -> int:
    """Bytes a beat (or the status ports) of ``width`` bits takes on the link: whole bytes, LSB first."""
    return -(-width // 8)


def checksum(body: bytes) -> int:
    """The byte that makes the sum of ``body`` (opcode, length, payload) and itself 0 modulo 256."""
    return -sum(body) & 0xFF


def frame(opcode: int, payload: bytes = b"") -> bytes:
    body = bytes([opcode, len(payload) & 0xFF, len(payload) >> 8]) + bytes(payload)
    return bytes([SYNC]) + body + bytes([checksum(body)])
