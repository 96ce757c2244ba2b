"""A weight tile double buffer: the next tile loads from a stream while the current one computes."""

from __future__ import annotations

from collections.abc import Callable

from amaranth.hdl import Module, Mux, Signal, Value
from amaranth.lib import data


class TileDoubleBuffer:
    """Two banks of ``slots`` entries: the active tile in use and the shadow tile filled one stream beat per
    slot.

    The block drives :attr:`release` high in a cycle whose end finishes the active tile. The shadow tile is
    switched in (:attr:`swap`) when it is full and either no tile is active or the active one is released in that
    cycle; ``weights.ready`` rises in the same cycle, so that back-to-back tiles load without a bubble.
    :attr:`next_valid` says whether a tile will be active in the next cycle (a block that uses the tile one cycle
    after accepting work gates its acceptance with it). ``store`` maps a beat's payload to what the slot keeps.

    ``flip = False``: a swap copies the shadow tile into the active one, and a beat loads its slot when taken.
    ``flip = True`` (for timing: no handshake reaches a wide enable): a swap flips which bank is active (one
    register; the banks are read through a multiplexer), so the release does not copy the tile. A slot loads
    while the shadow bank is not full, which registers decide. The beat taken in the cycle of a swap, whose
    slot is the released bank's first, waits in a one-slot register (written whenever a beat is offered to a
    full shadow, kept only if taken) and enters its bank in the next cycle.

    Attributes: ``active``, ``active_valid``, ``shadow_full``, ``load_slot``, ``fire`` (a beat is taken),
    ``swap``, ``release``, ``next_valid``, ``holding`` (a tile is partly or wholly loaded and not yet active).
    """

    def __init__(self, m: Module, weights, slot_shape, slots: int,
                 store: Callable[[Value], Value] | None = None, name: str = "tile", flip: bool = False) -> None:
        layout = data.ArrayLayout(slot_shape, slots)
        names = ("bank0", "bank1") if flip else ("shadow", "active")
        banks = [Signal(layout, name=f"{name}_{names[b]}", reset_less=True) for b in range(2)]
        sel = Signal(name=f"{name}_sel")  # the active bank (flip)
        self.active = layout(Mux(sel, banks[1].as_value(), banks[0].as_value())) if flip else banks[1]
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
            m.d.sync += [self.active_valid.eq(1), self.shadow_full.eq(0)]
            m.d.sync += sel.eq(~sel) if flip else banks[1].eq(banks[0])
        # After the swap, so that a slot loaded in the swap cycle (slots = 1) is kept.
        with m.If(self.fire):
            with m.If(self.load_slot == slots - 1):
                m.d.sync += [self.load_slot.eq(0), self.shadow_full.eq(1)]
            with m.Else():
                m.d.sync += self.load_slot.eq(self.load_slot + 1)

        self.holding = (self.load_slot != 0) | self.shadow_full

        value = weights.payload if store is None else store(weights.payload)
        if not flip:  # bank 0 is the shadow tile, bank 1 the active one
            with m.If(self.fire):
                for s in range(slots):
                    with m.If(self.load_slot == s):
                        m.d.sync += banks[0][s].eq(value)
            return
        # Loads into the shadow bank (the one not active) while it is not full: their enables are registers and
        # the offered beat's valid, which is all `fire` is then.
        for b in range(2):
            for s in range(slots):
                with m.If((sel != b) & weights.valid & ~self.shadow_full & (self.load_slot == s)):
                    m.d.sync += banks[b][s].eq(value)
        # A beat offered to a full shadow can only be taken by a swap, into the released bank's first slot.
        early = Signal(slot_shape, name=f"{name}_early", reset_less=True)
        early_valid = Signal(name=f"{name}_early_valid")
        with m.If(weights.valid & self.shadow_full):
            m.d.sync += early.eq(value)
        m.d.sync += early_valid.eq(self.fire & self.shadow_full)
        with m.If(early_valid):  # the bank released by the swap is the shadow bank now
            for b in range(2):
                with m.If(sel != b):
                    m.d.sync += banks[b][0].eq(early)
