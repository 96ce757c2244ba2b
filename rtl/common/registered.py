"""A wrapper that registers every port of a component, so that timing analysis sees reg-to-reg paths only."""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module, Shape, Signal
from amaranth.lib import wiring


class RegisteredPorts(Elaboratable):
    """Puts one flip-flop stage on every input and every output of ``component``.

    Used by the synthesis flows (spec: ``synth.md``): place-and-route Fmax and static timing then measure the
    component's internal paths, not paths from unconstrained pins. The wrapper adds one cycle of latency each
    way and :attr:`wrapper_ffs` flip-flops, which the reports state separately.

    Attributes
    ----------
    ports : list of Signal
        The wrapper's top-level ports, named like the component's flattened ports (``acts__payload``, ...).
    wrapper_ffs : int
        Flip-flops the wrapper adds (the total width of all ports).
    """

    def __init__(self, component: wiring.Component) -> None:
        self.component = component
        self._members = []
        for path, member, value in component.signature.flatten(component):
            name = "__".join(str(p) for p in path)
            port = Signal(Shape.cast(member.shape).width, name=name)
            self._members.append((member.flow, port, value))
        self.ports = [port for _, port, _ in self._members]
        self.wrapper_ffs = sum(len(port) for port in self.ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = self.component
        for flow, port, value in self._members:
            stage = Signal(len(port), name=f"{port.name}_q")
            if flow == wiring.In:
                m.d.sync += stage.eq(port)
                m.d.comb += value.eq(stage)
            else:
                m.d.sync += stage.eq(value)
                m.d.comb += port.eq(stage)
        return m
