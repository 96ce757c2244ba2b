"""The exact float multiplier: the baseline L-Mul is measured against."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed

from ..common.float import finish
from .unit import FloatUnit


class ExactFpMul(FloatUnit):
    """A correctly rounded float multiplier: ``(m+1) x (m+1)`` significand product, 1-bit normalization, round to
    nearest with ties to even, with the same DAZ/FTZ, special-value and overflow rules as :class:`LMul`, so the
    two differ only in how the significands are combined.

    Underflow is judged on the exact product before rounding (spec ``lmul.md``): a product below the smallest
    normal flushes to signed zero even where rounding would reach it. Overflow is judged after rounding.

    Attributes
    ----------
    operands : In(stream.Signature({a, b}))
    result : Out(stream.Signature({product}))
        ``config.latency`` (= ``stages``) cycles after the operands; one result per cycle.
    """

    def elaborate(self, platform):
        m = Module()
        cfg, spec = self.config, self.config.spec
        e, mb = cfg.exp_bits, cfg.man_bits
        cut = self.pipeline(m)
        a, b, flags = self.decode_operands(m, cut)
        exp_sum = Signal(signed(e + 3), name="exp_sum")
        m.d.comb += exp_sum.eq(a.exp + b.exp - spec.bias)
        exp_sum = cut(0, exp_sum, "exp_sum0")
        product = Signal(2 * mb + 2, name="significand_product")  # in [1, 4) * 2^(2m)
        m.d.comb += product.eq(cut(0, Cat(a.man, 1), "sig_a0") * cut(0, Cat(b.man, 1), "sig_b0"))
        product, exp_sum, flags = cut(1, product, "product1"), cut(1, exp_sum, "exp_sum1"), cut(1, flags, "flags1")

        wide = product[-1]
        exp_pre = Signal(signed(e + 3), name="exp_pre")  # exponent of the exact product, before rounding
        m.d.comb += exp_pre.eq(exp_sum + wide)
        # m mantissa bits below the leading one, then the guard bit and the sticky OR of the rest
        aligned = Signal(2 * mb + 1, name="aligned")
        m.d.comb += aligned.eq(Mux(wide, product[: 2 * mb + 1], Cat(0, product[: 2 * mb])))
        man, guard, rest = aligned[mb + 1 :], aligned[mb], aligned[:mb]
        round_up = guard & ((rest != 0) | man[0])
        rounded = Signal(mb + 1, name="rounded")
        m.d.comb += rounded.eq(man + round_up)
        carry = rounded[mb]
        exp_field = Signal(signed(e + 3), name="exp_field")
        # FTZ on the exact product: a product whose own exponent is <= 0 flushes before rounding can lift it
        m.d.comb += exp_field.eq(Mux(exp_pre <= 0, 0, exp_pre + carry))
        result = finish(m, spec, cfg.overflow, flags[0], exp_field, rounded[:mb], flags[1], flags[2], flags[3])
        m.d.comb += self.result.payload.product.eq(cut(2, result, "product2"))
        return m
