"""L-Mul: a float product from one integer addition (Luo and Sun, arXiv 2410.00907)."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal, signed

from ..common.float import finish
from .config import offset_exponent
from .unit import FloatUnit


class LMul(FloatUnit):
    """One L-Mul per cycle: ``(1 + xm + ym + 2^-l(m)) 2^(xe + ye)`` with no mantissa multiplier.

    The mantissa product ``xm * ym`` of an exact multiplier is replaced by the constant ``2^-l(m)`` (the paper's
    Eq. 3), so the datapath is a sign XOR and one adder. ``norm = "carry"`` adds the concatenated (exponent,
    mantissa) fields of both operands together with the constant ``offset - bias * 2^m`` in a single adder: a
    mantissa carry increments the exponent by itself (Mitchell-style logarithmic multiplication; it is what the
    paper's own fp32 emulation does). ``norm = "shift"`` is the formula as written: the significand
    ``1 + xm + ym + 2^-l(m)`` is formed, and when it reaches 2 it is halved (dropping its last bit) and the
    exponent incremented. Special values, DAZ/FTZ and overflow follow :mod:`rtl.common.float`.

    Parameters
    ----------
    config : LMulConfig

    Attributes
    ----------
    operands : In(stream.Signature({a, b}))
        Two operands in the configured format per beat.
    result : Out(stream.Signature({product}))
        The L-Mul product, ``config.latency`` (= ``stages``) cycles after its operands were accepted; one
        result per cycle.
    """

    def elaborate(self, platform):
        m = Module()
        cfg, spec = self.config, self.config.spec
        e, mb = cfg.exp_bits, cfg.man_bits
        cut = self.pipeline(m)
        a, b, flags = self.decode_operands(m, cut)
        offset = 1 << (mb - offset_exponent(mb))
        total = Signal(signed(e + mb + 3), name="total")
        if cfg.norm == "carry":
            m.d.comb += total.eq(Cat(a.man, a.exp) + Cat(b.man, b.exp) + (offset - (spec.bias << mb)))
        else:
            significand = Signal(mb + 2, name="significand")  # 1 + xm + ym + 2^-l(m), in [1, 3) * 2^m
            m.d.comb += significand.eq((1 << mb) + a.man + b.man + offset)
            wide = significand[mb + 1]
            halved = significand.bit_select(wide, mb)  # the m bits below the leading one
            exp_sum = Signal(signed(e + 3), name="exp_sum")
            m.d.comb += [exp_sum.eq(a.exp + b.exp + wide - spec.bias), total.eq(Cat(halved, exp_sum))]
        total = cut(0, total, "total0")
        total, flags = cut(1, total, "total1"), cut(1, flags, "flags1")
        exp_field = total[mb:].as_signed()  # a slice is unsigned: the sign must be restored
        product = finish(m, spec, cfg.overflow, flags[0], exp_field, total[:mb], flags[1], flags[2], flags[3])
        m.d.comb += self.result.payload.product.eq(cut(2, product, "product2"))
        return m
