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


def test_word_arrays_equal_beat_by_beat_packing():
    """:meth:`pack_words` / :meth:`unpack_words` (many beats, 32-bit words) against :meth:`pack` / :meth:`array`
    on fields that straddle words, signed and unsigned, in a payload wider than 64 bits."""
    layout = data.StructLayout({"data": data.ArrayLayout(data.ArrayLayout(signed(21), 3), 2), "first": 1,
                                "code": data.ArrayLayout(2, 5)})
    codec = PayloadCodec({"width": layout.size, "fields": layout_fields(layout)})
    rng = np.random.default_rng(3)
    values = {"data": rng.integers(-(1 << 20), 1 << 20, size=(50, 2, 3)), "first": rng.integers(0, 2, size=50),
              "code": rng.integers(0, 4, size=(50, 5))}
    words = codec.pack_words(values, 50)
    assert words.shape == (50, codec.words) == (50, 5)
    for b in range(50):
        word = codec.pack({name: v[b] for name, v in values.items()})
        assert codec.word_int(words[b]) == word
    for name, v in values.items():
        assert (codec.unpack_words(words, name) == v).all()
    assert (codec.int_words([codec.word_int(row) for row in words]) == words).all()
