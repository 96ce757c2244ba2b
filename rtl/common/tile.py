"""A weight tile double buffer: the next tile loads from a stream while the current one computes."""

from __future__ import annotations

from collections.abc import Callable

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import data


class TileDoubleBuffer:
    """A shadow tile of ``slots`` entries, filled one stream beat per slot, and the active tile in use.

    The block drives :attr:`release` high in a cycle whose end finishes the active tile. The shadow tile is
    switched in (:attr:`swap`) when it is full and either no tile is active or the active one is released in that
    cycle; ``weights.ready`` rises in the same cycle, so that back-to-back tiles load without a bubble.
    :attr:`next_valid` says whether a tile will be active in the next cycle (a block that uses the tile one cycle
    after accepting work gates its acceptance with it). ``store`` maps a beat's payload to what the slot keeps.

    Attributes: ``active``, ``active_valid``, ``shadow_full``, ``load_slot``, ``fire`` (a beat is taken),
    ``swap``, ``release``, ``next_valid``, ``holding`` (a tile is partly or wholly loaded and not yet active).
    """

    def __init__(self, m: Module, weights, slot_shape, slots: int,
                 store: Callable[[Value], Value] | None = None, name: str = "tile") -> None:
        layout = data.ArrayLayout(slot_shape, slots)
        self.shadow = Signal(layout, name=f"{name}_shadow", reset_less=True)
        self.active = Signal(layout, name=f"{name}_active", reset_less=True)
        self.shadow_full = Signal(name=f"{name}_shadow_full")
        self.active_valid = Signal(name=f"{name}_active_valid")
        self.load_slot = Signal(range(max(slots, 2)), name=f"{name}_load_slot")
        self.release = Signal(name=f"{name}_release")
        self.swap = Signal(name=f"{name}_swap")
        self.fire = Signal(name=f"{name}_fire")
        self.next_valid = Signal(name=f"{name}_next_valid")

        m.d.comb += [
            self.fire.eq(weights.valid & weights.ready),
            self.swap.eq(self.shadow_full & (~self.active_valid | self.release)),
            weights.ready.eq(~self.shadow_full | self.swap),
            self.next_valid.eq((self.active_valid & ~self.release) | self.shadow_full),
        ]
        with m.If(self.release):
            m.d.sync += self.active_valid.eq(0)
        with m.If(self.swap):
            m.d.sync += [self.active.eq(self.shadow), self.active_valid.eq(1), self.shadow_full.eq(0)]
        # After the swap, so that a slot loaded in the swap cycle (slots = 1) is kept.
        with m.If(self.fire):
            value = weights.payload if store is None else store(weights.payload)
            for s in range(slots):
                with m.If(self.load_slot == s):
                    m.d.sync += self.shadow[s].eq(value)
            with m.If(self.load_slot == slots - 1):
                m.d.sync += [self.load_slot.eq(0), self.shadow_full.eq(1)]
            with m.Else():
                m.d.sync += self.load_slot.eq(self.load_slot + 1)
        self.holding = (self.load_slot != 0) | self.shadow_full
