"""What the float units share: an ``operands`` stream in, a ``result`` stream out, and pipeline cut points."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..common.float import Operand, decode, special_cases
from ..common.pipeline import StallPipeline, cut_points


class FloatUnit(wiring.Component):
    """Base of the float units: the signature comes from the config's ``operand_layout`` and ``result_layout``."""

    def __init__(self, config: Any) -> None:
        self.config = config
        super().__init__({
            "operands": In(stream.Signature(config.operand_layout)),
            "result": Out(stream.Signature(config.result_layout)),
        })
        #: Results the unit holds or computes and has not handed out: a formal-proof hook (not a port), driven
        #: only when the proof top sets ``count_held``, so that generated designs stay unchanged.
        self.held = Signal(range(config.latency + 2), name="held")
        self.count_held = False

    def pipeline(self, m: Module) -> Callable[[int, Any, str], Any]:
        """A :class:`StallPipeline` of ``config.stages`` registers; returns ``cut(point, value, name)``, which
        registers ``value`` when cut point ``point`` carries a register at this depth and passes it through
        otherwise."""
        pipe = StallPipeline(m, self.operands, self.result, self.config.stages)
        if self.config.stages and self.count_held:
            m.d.comb += self.held.eq(sum(pipe.valids))
        cuts = cut_points(self.config.stages)

        def cut(point: int, value: Any, name: str) -> Any:
            return pipe.register(value, name) if point in cuts else value

        return cut

    def decode_operands(self, m: Module, cut: Callable[[int, Any, str], Any]) -> tuple[Operand, Operand, Any]:
        """Both operands decoded, and ``Cat(sign, nan, inf, zero)`` of the product's special cases after cut 0."""
        spec = self.config.spec
        a = decode(m, self.operands.payload.a, spec, "a")
        b = decode(m, self.operands.payload.b, spec, "b")
        sign, nan, inf, zero = special_cases(a, b)
        return a, b, cut(0, Cat(sign, nan, inf, zero), "flags0")
