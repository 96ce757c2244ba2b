"""The model runner's board path over the simulated UART link: a weight-streaming MAC GEMV behind the host link
runs linear layers prepared by ``host.model.GemvDatapath`` (the same beats the replay gets), each sent with
``host.model.link_exchange``; the results equal ``W x``."""

from __future__ import annotations

import cocotb
import numpy as np

from host.model import GemvDatapath, link_exchange
from verif.board.bench import TIMEOUT, start


@cocotb.test(**TIMEOUT)
async def model_layers_through_the_link(dut):
    host = await start(dut)
    datapath = GemvDatapath(host.design)
    rng = host.bench.rng
    for n, k in ((5, 30), (9, 13)):
        w = rng.integers(-1, 2, size=(n, k))
        x = rng.integers(-128, 128, size=k)
        layer = datapath.prepare(w)
        beats = {"weights": layer.weight_words, "acts": datapath.act_words(layer, x)}
        out = await host.run(link_exchange(host.design, beats, layer.out_tiles))
        y = datapath.result(layer, out)
        assert np.array_equal(y, w @ x), f"W{w.shape} x over the link: {y}, numpy {w @ x}"
    status = await host.status()
    assert status["link_flags"] == 0 and status.get("error", 0) == 0
