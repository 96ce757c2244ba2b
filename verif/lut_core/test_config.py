"""The LUT core's derived widths and timing (computed in its config, inside rtl/) against the golden model's
formulas, which are written independently of it."""

import itertools

import pytest

from gen.presets import design
from golden import lut


def config(**fields):
    return design("lut-ternary-16x16", fields).config


def test_derived_widths_and_timing():
    serial = config(weight_kind="int", weight_bits=4, bit_serial=True, k=16, n=8, table_bits=8)
    assert (serial.cycles_per_token, serial.latency, serial.ops_per_cycle) == (4, 7, 32)
    assert serial.table_shift == lut.table_shift(8, 4, 8) == 3
    assert serial.acc_width == lut.acc_bits_for(4096, 8, "int", 4) + 2
    parallel = config(k=10, g=4)
    assert (parallel.groups, parallel.latency, parallel.entry_bits, parallel.offset_factor) == (3, 4, 11, 1)
    assert config(ternary_packing="base3", g=3).code_shape.width == 5
    assert config(weight_kind="int", weight_bits=1).offset_factor == 0
    with pytest.raises(ValueError, match="zero_point must be unset for binary"):
        config(weight_kind="int", weight_bits=1, zero_point=0)


MODES = [("ternary", 2, None), ("int", 1, None), ("int", 2, None), ("int", 3, 5), ("int", 4, 0), ("int", 4, None)]


@pytest.mark.parametrize("kind, bits, zp", MODES)
def test_config_and_golden_agree_on_every_width(kind, bits, zp):
    for g, act_bits, table_bits in itertools.product((2, 3, 4, 5, 6), (2, 5, 8, 16), (None, 2, 6, 8, 10)):
        if table_bits is not None and table_bits > lut.entry_bits(act_bits, g):
            continue
        cfg = config(weight_kind=kind, weight_bits=bits, zero_point=zp, g=g, act_bits=act_bits,
                     table_bits=table_bits, k=16, max_k=300)
        assert cfg.exact_entry_bits == lut.entry_bits(act_bits, g)
        assert cfg.table_shift == lut.table_shift(act_bits, g, table_bits)
        assert cfg.weight_range == lut.weight_range(kind, bits, zp)
        assert cfg.offset_factor == lut.plane_weight_offset(kind, bits, zp)
        assert cfg.safe_acc_bits == lut.acc_bits_for(300, act_bits, kind, bits, zp) + (2 if table_bits else 0)
    b3 = config(ternary_packing="base3", g=4)
    assert (b3.base3_max, b3.code_shape.width - 1) == (lut.base3_magnitude_max(4), lut.base3_mag_bits(4))


def test_weight_streaming_settings():
    gemv = config(dataflow="weight_streaming", max_tokens=1, block_tiles=4, k=10, g=4)
    assert (gemv.accumulators, gemv.latency, gemv.throughput, gemv.ops_per_cycle) == (4, 4, 1.0, 160)
    assert gemv.weight_layout.size == 3 * gemv.group_layout.size + 1  # three groups and block_end
    assert config().weight_layout == config().group_layout
    assert "gemv_b4" in gemv.top_name and "gemv" not in config().top_name
    with pytest.raises(ValueError, match=r"max_tokens must be .*dataflow='weight_streaming'"):
        config(dataflow="weight_streaming")
    with pytest.raises(ValueError, match=r"block_tiles must be .*dataflow='weight_stationary'"):
        config(block_tiles=2)
    with pytest.raises(ValueError, match="bit_serial must be false with dataflow='weight_streaming'"):
        config(dataflow="weight_streaming", max_tokens=1, weight_kind="int", weight_bits=4, bit_serial=True)
