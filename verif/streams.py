"""Stream drivers and monitors for Amaranth ``lib.stream`` ports, built on cocotbext-axi's generic streams.

Amaranth flattens a stream port ``acts`` into ``acts__valid``, ``acts__ready`` and ``acts__payload``; the
payload is one flat vector whose layout the manifest records (see :mod:`gen.payload`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from cocotbext.axi.stream import define_stream

from gen.payload import PayloadCodec

Bus, Transaction, Source, Sink, Monitor = define_stream(
    "LibStream", signals=["payload", "valid", "ready"]
)


def stall_pattern(rng: np.random.Generator, probability: float) -> Iterator[bool]:
    """An endless pause pattern: each cycle is a stall with ``probability`` (0 never stalls)."""
    if probability <= 0:
        return itertools.repeat(False)
    return (bool(v) for v in iter(lambda: rng.random() < probability, None))


class StreamPort:
    """One stream of the DUT: a source (the DUT's sink port) or a sink (the DUT's source port).

    ``send`` queues beats given as field dicts; ``recv`` returns the next beat's integer. ``stall`` sets a random
    valid (source) or ready (sink) pause probability.
    """

    def __init__(self, dut: Any, stream: Mapping[str, Any], reset: Any = None) -> None:
        self.name = stream["name"]
        self.codec = PayloadCodec(stream["payload"])
        bus = Bus.from_prefix(dut, self.name, bus_separator="__")
        self.is_output = stream["role"] == "source"
        driver = Sink if self.is_output else Source
        self.driver = driver(bus, dut.clk, reset, reset_active_level=True)
        self.driver.log.setLevel("WARNING")

    def stall(self, rng: np.random.Generator, probability: float) -> None:
        self.driver.set_pause_generator(stall_pattern(rng, probability))

    async def send(self, values: Mapping[str, Any]) -> None:
        await self.driver.send(Transaction(payload=self.codec.pack(values)))

    def send_nowait(self, values: Mapping[str, Any]) -> None:
        self.driver.send_nowait(Transaction(payload=self.codec.pack(values)))

    async def recv(self) -> int:
        beat = await self.driver.recv()
        return int(beat.payload)

    def clear(self) -> None:
        self.driver.clear()

    async def wait(self) -> None:
        await self.driver.wait()
