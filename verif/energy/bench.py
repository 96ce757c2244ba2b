"""cocotb bench of the energy flow: one stimulus through a design (its RTL or its gate-level netlist), with the
block's own bench drivers and golden checks, recording the measured window and every output beat.

The stimulus comes from an ``.npz`` file named by ``LOWBIT_STIMULUS``: a warm-up part (arrays prefixed
``warm_``) and the measured part. The result, ``energy_run.json`` in the run folder, holds the window (the
clock edge before the first input beat of the measured part to the edge that takes its last output beat) and
the output beats' raw payloads, which the RTL and netlist runs must agree on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

from verif.bench import CLOCK_NS, Bench
from verif.fpmul import bench as fpmul_bench
from verif.fpmul import dot_bench
from verif.lut_core import bench as lut_bench
from verif.mac_array import bench as mac_bench
from verif.slt import bench as slt_bench

STIMULUS_ENV = "LOWBIT_STIMULUS"
RESULT_FILE = "energy_run.json"


async def _mac(bench: Bench, data: dict[str, np.ndarray]) -> None:
    await mac_bench.run_gemm(bench, data["x"], data["w"])


async def _lut(bench: Bench, data: dict[str, np.ndarray]) -> None:
    await lut_bench.run_gemm(bench, data["x"], data["w"])


async def _fpmul(bench: Bench, data: dict[str, np.ndarray]) -> None:
    await fpmul_bench.run_pairs(bench, data["a"], data["b"], 0.0, 0.0)


async def _dot(bench: Bench, data: dict[str, np.ndarray]) -> None:
    await dot_bench.run_dots(bench, data["a"], data["b"], 0.0, 0.0)


async def _slt(bench: Bench, data: dict[str, np.ndarray]) -> None:
    plan = slt_bench.plan_gemv(bench, data["w"], data["x"], reorder="reorder" in data and bool(data["reorder"]))
    await slt_bench.run_plan(bench, plan, "energy stimulus")


#: Each block's driver: the same coroutine its own bench uses, without stalls.
DRIVERS: dict[str, Callable[[Bench, dict[str, np.ndarray]], Awaitable[None]]] = {
    "mac_array": _mac, "lut_core": _lut, "lmul": _fpmul, "exact_fp_mul": _fpmul, "fp_dot": _dot, "slt": _slt,
}


class Recorder:
    """Watches every stream's handshakes from now on: the time of the first input transfer, the last output
    transfer, and every output payload."""

    def __init__(self, bench: Bench) -> None:
        self.first_in: float | None = None
        self.last_out: float | None = None
        self.outputs: list[str] = []
        dut = bench.dut
        self._ports = [(port.is_output, getattr(dut, f"{name}__valid"), getattr(dut, f"{name}__ready"),
                        getattr(dut, f"{name}__payload")) for name, port in bench.streams.items()]
        self._task = cocotb.start_soon(self._watch(dut))

    async def _watch(self, dut) -> None:
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            now = get_sim_time("ns")
            for is_output, valid, ready, payload in self._ports:
                if valid.value and ready.value:
                    if is_output:
                        self.last_out = now
                        self.outputs.append(format(int(payload.value), "x"))
                    elif self.first_in is None:
                        self.first_in = now

    def stop(self) -> None:
        self._task.cancel()


@cocotb.test(timeout_time=2000, timeout_unit="ms")
async def measure(dut):
    bench = await Bench.start(dut)
    stimulus = np.load(os.environ[STIMULUS_ENV])
    warm = {name[5:]: stimulus[name] for name in stimulus.files if name.startswith("warm_")}
    data = {name: stimulus[name] for name in stimulus.files if not name.startswith("warm_")}
    drive = DRIVERS[bench.manifest["block"]]
    if warm:
        await drive(bench, warm)
    recorder = Recorder(bench)
    await drive(bench, data)
    recorder.stop()
    assert recorder.first_in is not None and recorder.last_out is not None, "no transfer in the measured part"
    start_ns = recorder.first_in - CLOCK_NS
    result = {"window_ns": [start_ns, recorder.last_out], "period_ns": CLOCK_NS,
              "cycles": round((recorder.last_out - start_ns) / CLOCK_NS), "outputs": recorder.outputs}
    Path(RESULT_FILE).write_text(json.dumps(result) + "\n")
