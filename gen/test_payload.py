"""The manifest-driven payload codec against Amaranth's own layout views."""

import numpy as np
from amaranth.hdl import Const, signed
from amaranth.lib import data

from gen.manifest import layout_fields
from gen.payload import PayloadCodec


def test_pack_matches_amaranth_layout():
    layout = data.StructLayout({"data": data.ArrayLayout(signed(8), 3), "first": 1, "last": 1})
    codec = PayloadCodec({"width": layout.size, "fields": layout_fields(layout)})
    word = codec.pack({"data": np.array([-128, 5, 127]), "last": 1})
    view = data.Const(layout, word)
    assert [view.data[i] for i in range(3)] == [-128, 5, 127]
    assert view.first == 0 and view.last == 1
    assert codec.array(word, "data").tolist() == [-128, 5, 127]
    assert codec.unpack(word)["last"] == 1
    assert Const(word, layout.size).value == word


def test_nested_arrays_round_trip():
    layout = data.ArrayLayout(data.ArrayLayout(signed(8), 4), 2)
    codec = PayloadCodec({"width": layout.size, "fields": layout_fields(layout, "w")})
    tile = np.arange(-4, 4).reshape(2, 4)
    assert (codec.array(codec.pack({"w": tile}), "w") == tile).all()
