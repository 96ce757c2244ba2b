"""Token-block accumulators of the weight-stationary arrays: a token counter and one accumulator per column and
token, read a cycle before it is updated."""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Module, Mux, Shape, Signal, Value, signed
from amaranth.lib import data


def token_counter(m: Module, fire: Value, block_end: Value, tokens: int) -> tuple[Signal, Signal]:
    """The position of the next accepted beat in its token block: counts accepted beats (``fire``), restarts
    after a beat flagged ``block_end``, and wraps after ``tokens`` beats with ``overflow`` high in that cycle."""
    token = Signal(range(max(tokens, 2)), name="token")  # never zero-width: Verilog has no [-1:0]
    overflow = Signal(name="block_overflow")
    with m.If(fire):
        with m.If(block_end):
            m.d.sync += token.eq(0)
        with m.Elif(token == tokens - 1):
            m.d.sync += token.eq(0)
            m.d.comb += overflow.eq(1)
        with m.Else():
            m.d.sync += token.eq(token + 1)
    return token, overflow


class TokenAccumulators:
    """``cols`` columns x ``tokens`` accumulators of ``shape``, one memory per column (so that a read by token
    is a per-column multiplexer).

    The pipeline reads the row a beat will add to one stage ahead (:meth:`prior`), forwarding the sum that the
    update stage writes in the same cycle, so that the update stage is a bare addition: ``total[c] = prior[c] +
    addend[c]`` (:meth:`add`), written back by :meth:`write`.
    """

    def __init__(self, m: Module, shape: Shape, cols: int, tokens: int) -> None:
        self.m, self.cols, self.tokens = m, cols, tokens
        self.acc = [Signal(data.ArrayLayout(shape, tokens), name=f"acc_{c}", reset_less=True) for c in range(cols)]
        self.total = [Signal(shape, name=f"total_{c}") for c in range(cols)]

    def prior(self, c: int, token: Value, first: Value, forward: Value) -> Value:
        """The value column ``c`` of ``token`` adds to: 0 on ``first``, the sum being written when ``forward``."""
        stored = self.acc[c][token] if self.tokens > 1 else self.acc[c][0]
        return Mux(first, 0, Mux(forward, self.total[c], stored))

    def add(self, priors: Sequence[Value], addends: Sequence[Value]) -> None:
        self.m.d.comb += [self.total[c].eq(priors[c] + addends[c]) for c in range(self.cols)]

    def write(self, token: Value) -> None:
        """Store ``total`` into the row of ``token`` (call under the update stage's enable)."""
        for i in range(self.tokens):
            with self.m.If(token == i):
                self.m.d.sync += [self.acc[c][i].eq(self.total[c]) for c in range(self.cols)]


class GemmTileConfig:
    """What the configs of the GEMM tiles share (mixed into their dataclasses): the accumulator width and the
    ``acts``/``out`` payloads. A config provides ``act_bits``, ``acc_bits``, ``max_k``, ``safe_acc_bits``,
    ``act_lanes`` (activations per beat) and ``out_lanes`` (results per beat)."""

    @property
    def acc_width(self) -> int:
        return self.safe_acc_bits if self.acc_bits is None else self.acc_bits

    @property
    def narrow_accumulator(self) -> bool:
        """True when ``acc_bits`` was chosen narrower than safe: results wrap (two's complement)."""
        return self.acc_width < self.safe_acc_bits

    @property
    def act_layout(self) -> data.StructLayout:
        return data.StructLayout({
            "data": data.ArrayLayout(signed(self.act_bits), self.act_lanes),
            "first": 1,
            "last": 1,
            "tile_end": 1,
        })

    @property
    def out_layout(self) -> data.StructLayout:
        return data.StructLayout({"data": data.ArrayLayout(signed(self.acc_width), self.out_lanes)})

    def warnings(self) -> list[str]:
        """Legal but risky choices the generator reports when it emits this design."""
        if self.narrow_accumulator:
            return [f"acc_bits={self.acc_width} is narrower than the {self.safe_acc_bits} bits that max_k="
                    f"{self.max_k} needs: accumulators wrap (two's complement)"]
        return []
