"""What every cocotb bench needs: its manifest, a replayable random generator, clock, reset and streams."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, Timer

from .streams import StreamPort

MANIFEST_ENV = "LOWBIT_MANIFEST"
CLOCK_NS = 10


class Bench:
    """Per-test context: ``bench = await Bench.start(dut)`` starts the clock, resets and binds every stream."""

    def __init__(self, dut: Any, manifest: dict[str, Any]) -> None:
        self.dut = dut
        self.manifest = manifest
        self.config: dict[str, Any] = manifest["config"]
        self.derived: dict[str, Any] = manifest["derived"]
        test_name = os.environ.get("COCOTB_TEST_FILTER") or cocotb.top._name
        self.seed = (int(cocotb.RANDOM_SEED) ^ zlib.crc32(str(test_name).encode())) & 0xFFFFFFFF
        self.rng = np.random.default_rng(self.seed)
        self.streams = {s["name"]: StreamPort(dut, s, reset=dut.rst) for s in manifest["streams"]}
        dut._log.info("bench seed %d (replay with SEED=%d)", self.seed, int(cocotb.RANDOM_SEED))

    @classmethod
    async def start(cls, dut: Any) -> Bench:
        manifest = json.loads(Path(os.environ[MANIFEST_ENV]).read_text())
        dut.rst.value = 1
        Clock(dut.clk, CLOCK_NS, unit="ns").start()
        bench = cls(dut, manifest)
        await ClockCycles(dut.clk, 3)
        dut.rst.value = 0
        await RisingEdge(dut.clk)
        return bench

    def __getitem__(self, name: str) -> StreamPort:
        return self.streams[name]

    async def reset(self, cycles: int = 2) -> None:
        """Synchronous reset in the middle of whatever is running; the drivers' queues are emptied."""
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 1
        for port in self.streams.values():
            port.clear()
        await ClockCycles(self.dut.clk, cycles)
        for port in self.streams.values():  # beats a sink took while reset was being applied
            port.clear()
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def sample(self, signal: Any) -> int:
        """The value of ``signal`` once the current time step has settled (legal from any phase)."""
        await Timer(1, "ps")
        return int(signal.value)
