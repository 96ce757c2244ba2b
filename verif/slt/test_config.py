"""The SLT config's validation and derived sizes (computed in rtl/) against the golden model's, which are
written independently of it."""

import itertools

import numpy as np
import pytest

from gen.presets import design
from golden import lut, slt
from verif.slt.bench import params


def config(**fields):
    return design("slt-small", fields).config


@pytest.mark.parametrize("field, value, message", [
    ("k", 13, "k must be a multiple of g=3"),
    ("g", 7, "g must be in 2..6"),
    ("lanes", 5, "lanes must be in 1..4"),
    ("read_ports", 4, "read_ports must be in 1..3"),
    ("weight_kind", "int4", "weight_kind must be one of"),
    ("n_centers", -1, "n_centers must be in 0..1024"),
    ("max_k", 6, "max_k must be in 12.."),
    ("acc_bits", 65, "acc_bits must be in 2..64"),
])
def test_bad_values_name_the_field_and_range(field, value, message):
    with pytest.raises(ValueError, match=message):
        config(**{field: value})


@pytest.mark.parametrize("g, act_bits, lanes, kind, n_centers",
                         list(itertools.product((2, 3, 5), (4, 8), (1, 2), ("binary", "ternary"), (0, 4))))
def test_sizes_agree_with_the_golden_model(g, act_bits, lanes, kind, n_centers):
    cfg = config(g=g, k=4 * g, act_bits=act_bits, lanes=lanes, weight_kind=kind, n_centers=n_centers)
    p = params({**vars(cfg)})
    assert (cfg.groups, cfg.bank_groups, cfg.half_entries, cfg.entries) == \
        (p.groups, p.bank_groups, p.half_entries, p.entries)
    assert cfg.entry_bits == p.entry_bits and cfg.acc_width == p.acc_width
    assert cfg.ops_per_cycle == p.peak_macs
    fields = dict(cfg.weight_layout)
    assert (1 << fields["count"].shape.width) > cfg.bank_groups  # the count field holds every beat count
    assert ("mask" in fields) == (kind == "ternary" or n_centers > 0)
    assert ("mag" in fields) == ("role" in fields) == (n_centers > 0)


def test_published_entry_width():
    """Three signed 4-bit activations need 6-bit table entries (the published S-LUT is 7 bits wide: what three
    unsigned 4-bit slices, 0..15, need)."""
    assert config(act_bits=4).entry_bits == 6
    assert slt.Params(act_bits=4).entry_bits == 6
    assert np.abs(lut.half_table(np.array([-8, -8, -8]))).max() == 24
