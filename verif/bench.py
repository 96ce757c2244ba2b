"""What every cocotb bench needs: its manifest, a replayable random generator, clock, reset and streams."""

from __future__ import annotations

import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, Timer

from . import coverage
from .streams import StreamPort

MANIFEST_ENV = "LOWBIT_MANIFEST"
CLOCK_NS = 10


class Bench:
    """Per-test context: ``bench = await Bench.start(dut)`` starts the clock, resets and binds every stream."""

    def __init__(self, dut: Any, manifest: dict[str, Any], test_name: str) -> None:
        self.dut = dut
        self.manifest = manifest
        self.config: dict[str, Any] = manifest["config"]
        self.derived: dict[str, Any] = manifest["derived"]
        # One stream of random numbers per test, the same whether the module runs whole or one test alone.
        self.seed = (int(cocotb.RANDOM_SEED) ^ zlib.crc32(test_name.encode())) & 0xFFFFFFFF
        self.rng = np.random.default_rng(self.seed)
        self.streams = {s["name"]: StreamPort(dut, s, reset=dut.rst) for s in manifest["streams"]}
        coverage.enable()
        self.coverage = coverage.StreamMonitor(dut, manifest["block"], self.streams.values())
        if self.streams:
            cocotb.start_soon(self.coverage.run())
        dut._log.info("%s: bench seed %d (replay with SEED=%d)", test_name, self.seed, int(cocotb.RANDOM_SEED))

    @classmethod
    async def start(cls, dut: Any, test_name: str | None = None) -> Bench:
        """Clock, reset and streams for the calling test; ``test_name`` defaults to the caller's name."""
        test_name = test_name or sys._getframe(1).f_code.co_name
        manifest = json.loads(Path(os.environ[MANIFEST_ENV]).read_text())
        dut.rst.value = 1
        Clock(dut.clk, CLOCK_NS, unit="ns").start()
        bench = cls(dut, manifest, test_name)
        await ClockCycles(dut.clk, 3)
        dut.rst.value = 0
        await RisingEdge(dut.clk)
        return bench

    def __getitem__(self, name: str) -> StreamPort:
        return self.streams[name]

    async def reset(self, cycles: int = 2) -> None:
        """Synchronous reset in the middle of whatever is running; the drivers' queues are emptied. Where it
        lands (idle, work in flight, an output stalled) is a coverage point."""
        await RisingEdge(self.dut.clk)
        await ReadOnly()
        self.coverage.reset_landed()
        await RisingEdge(self.dut.clk)
        self.dut.rst.value = 1
        for port in self.streams.values():
            port.clear()
        await ClockCycles(self.dut.clk, cycles)
        for port in self.streams.values():  # beats a sink took while reset was being applied
            port.clear()
        self.dut.rst.value = 0
        await RisingEdge(self.dut.clk)

    async def hold_output(self, name: str, limit: int = 10_000) -> None:
        """Stop reading output stream ``name`` and return once a beat waits on it (``valid`` high)."""
        self.streams[name].stall(self.rng, 1.0)
        valid = getattr(self.dut, f"{name}__valid")
        for _ in range(limit):
            await RisingEdge(self.dut.clk)
            if await self.sample(valid):
                return
        raise AssertionError(f"{name}: no beat came out within {limit} cycles")

    async def assert_quiet(self, cycles: int = 8) -> None:
        """Nothing more comes out: after ``cycles`` cycles no output stream holds or has delivered a beat."""
        await ClockCycles(self.dut.clk, cycles)
        for port in self.streams.values():
            if port.is_output:
                assert port.driver.empty(), f"{port.name}: {port.driver.count()} unexpected extra beats"
                assert int(getattr(self.dut, f"{port.name}__valid").value) == 0, f"{port.name}: valid still high"

    def watch_transfers(self, *names: str) -> dict[str, list[int]]:
        """Record, from the next clock edge on, the cycles in which each named stream transfers a beat
        (``valid`` and ``ready`` both high); the lists fill while the test runs."""
        return self.coverage.watch(*names)

    async def sample(self, signal: Any) -> int:
        """The value of ``signal`` once the current time step has settled (legal from any phase)."""
        await Timer(1, "ps")
        return int(signal.value)
