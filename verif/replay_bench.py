"""The cocotb side of the fast replay's equivalence check (:mod:`verif.test_replay`): the same beat files as
:mod:`host.replay` takes, driven by cocotb with the replay's discipline (every input offered as soon as it has a
beat, the output always ready), recording the output beats and the cycles of each request."""

from __future__ import annotations

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from gen.payload import PayloadCodec
from host.replay import RESET_CYCLES

#: An .npz of the requests: ``requests`` (their count), ``expected_<i>``, ``<stream>_<i>`` (beat words).
REQUESTS_ENV = "LOWBIT_REPLAY_REQUESTS"
#: Where the bench writes its result: an .npz of ``out_<i>`` and ``cycles`` per request.
RESULT_ENV = "LOWBIT_REPLAY_RESULT"


@cocotb.test(timeout_time=100, timeout_unit="ms")
async def replay_requests(dut):
    """Each request back to back after one reset, as the replay server runs them."""
    manifest = json.loads(open(os.environ["LOWBIT_MANIFEST"]).read())
    requests = np.load(os.environ[REQUESTS_ENV])
    sinks = [s for s in manifest["streams"] if s["role"] == "sink"]
    out = next(s for s in manifest["streams"] if s["role"] == "source")
    out_codec = PayloadCodec(out["payload"])
    ports = {s["name"]: (getattr(dut, f"{s['name']}__payload"), getattr(dut, f"{s['name']}__valid"),
                         getattr(dut, f"{s['name']}__ready")) for s in sinks}
    out_payload, out_valid = getattr(dut, f"{out['name']}__payload"), getattr(dut, f"{out['name']}__valid")
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for _, valid, _ in ports.values():
        valid.value = 0
    getattr(dut, f"{out['name']}__ready").value = 1
    dut.rst.value = 1
    for _ in range(RESET_CYCLES):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    result = {}
    cycles = []
    for r in range(int(requests["requests"])):
        beats = {s["name"]: [PayloadCodec.word_int(row) for row in requests[f"{s['name']}_{r}"]] for s in sinks}
        index = dict.fromkeys(beats, 0)
        expected, got, count = int(requests[f"expected_{r}"]), [], 0
        while len(got) < expected:
            for name, (payload, valid, _) in ports.items():
                offer = index[name] < len(beats[name])
                valid.value = int(offer)
                if offer:
                    payload.value = beats[name][index[name]]
            await ReadOnly()
            fired = [name for name, (_, valid, ready) in ports.items() if valid.value and ready.value]
            if out_valid.value:
                got.append(int(out_payload.value))
            await RisingEdge(dut.clk)
            count += 1
            for name in fired:
                index[name] += 1
            assert count < 100_000, f"request {r}: no result after {count} cycles"
        for _, valid, _ in ports.values():
            valid.value = 0
        result[f"out_{r}"] = out_codec.int_words(got)
        cycles.append(count)
    np.savez(os.environ[RESULT_ENV], cycles=np.array(cycles), **result)
