"""Switching activity of a standard-cell netlist: the netlist's cells and net names (Yosys JSON), and per-net
rises and falls over a window, read from a VCD or FST trace of its simulation (pywellen)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Netlist:
    """A flat standard-cell netlist from Yosys JSON: cells with their pin bits and the names of every bit."""

    top: str
    cells: dict[str, tuple[str, dict[str, int]]]  # instance -> (cell type, pin -> bit)
    names: dict[int, list[str]]  # bit -> its names, "net" or "net[i]", public names first
    inputs: set[int]
    outputs: set[int]
    clock: int | None

    @classmethod
    def read(cls, path: Path, top: str, clock: str = "clk") -> Netlist:
        module = json.loads(path.read_text())["modules"][top]
        cells = {name: (cell["type"], {pin: bits[0] for pin, bits in cell["connections"].items()
                                       if bits and isinstance(bits[0], int)})
                 for name, cell in module["cells"].items()}
        names: dict[int, list[str]] = defaultdict(list)
        for name, net in sorted(module["netnames"].items(), key=lambda kv: (kv[1].get("hide_name", 0), kv[0])):
            bits, plain = net["bits"], name.lstrip("\\")
            for i, bit in enumerate(bits):
                if isinstance(bit, int):
                    names[bit].append(plain if len(bits) == 1 else f"{plain}[{i}]")  # i: position from the LSB
        inputs, outputs = set(), set()
        for port in module["ports"].values():
            (inputs if port["direction"] == "input" else outputs).update(b for b in port["bits"] if isinstance(b, int))
        clock_port = module["ports"].get(clock)
        return cls(top, cells, dict(names), inputs, outputs, clock_port["bits"][0] if clock_port else None)


Activity = dict[int, tuple[int, int]]  # bit -> (rises, falls) in the window


def activity_from_trace(trace: Path, netlist: Netlist, window_ns: tuple[float, float]) -> tuple[Activity, int]:
    """Rises and falls of every netlist bit with a change time in ``[start, end)`` of ``window_ns``, read from a
    VCD or FST trace of a simulation of ``netlist`` (the nets of its top-level scope, matched by name; one pass
    over the trace). Returns the activity and the number of bits that are not in the trace (constants and nets
    the simulator did not keep; they count as quiet)."""
    import pywellen

    wave = pywellen.Waveform(str(trace))
    per_ns = 1e-3 * _UNIT_PS[str(wave.timescale.unit)] * wave.timescale.factor
    t0, t1 = (w / per_ns for w in window_ns)
    scope = next(s for s in wave.all_scopes() if s.name == netlist.top)
    traced = {var.name.lstrip("\\"): var for var in scope.vars()}  # Icarus keeps an escaped name's backslash
    wanted: dict[str, Any] = {}
    for names in netlist.names.values():
        for name in names:
            base = name.partition("[")[0]
            if base in traced:
                wanted[base] = traced[base]
    ids = {str(var.signal_id): var for var in wanted.values()}
    changes: dict[str, list[tuple[int, Any]]] = defaultdict(list)
    wave.stream_changes(lambda time, sid, value: changes[str(sid)].append((time, value)), list(ids.values()))
    toggles = {base: _bit_toggles(changes[str(var.signal_id)], var.bitwidth, t0, t1) for base, var in wanted.items()}
    activity: Activity = {}
    missing = 0
    for bit, names in netlist.names.items():
        for name in names:
            base, _, index = name.partition("[")
            if base in toggles:
                rises, falls = toggles[base]
                i = int(index[:-1]) if index else 0
                activity[bit] = (int(rises[i]), int(falls[i]))
                break
        else:
            missing += 1
    return activity, missing


def trace_span_ns(trace: Path) -> tuple[float, float]:
    """The first and last time step of a trace, in ns."""
    import pywellen

    wave = pywellen.Waveform(str(trace))
    per_ns = 1e-3 * _UNIT_PS[str(wave.timescale.unit)] * wave.timescale.factor
    times = [t for var in wave.all_vars() for t in (var.signal[0][0], var.signal[len(var.signal) - 1][0])
             if len(var.signal)]
    return min(times) * per_ns, max(times) * per_ns + 1e-9


_UNIT_PS = {"fs": 1e-3, "ps": 1.0, "ns": 1e3, "us": 1e6, "ms": 1e9, "s": 1e12}


def _bit_toggles(changes: list[tuple[int, Any]], width: int, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Per bit of one traced variable, from its ``(time, value)`` changes: rises and falls with a change time in
    ``[t0, t1)``. An X or Z bit (four-state simulation) holds its last known value: a transition counts only
    between known values."""
    if width == 1:
        return _single_bit_toggles(changes, t0, t1)
    full = (1 << width) - 1
    rises, falls = np.zeros(width, dtype=np.int64), np.zeros(width, dtype=np.int64)
    nbytes = (width + 7) // 8
    state, seen = 0, 0  # last known value of each bit, and which bits were ever known

    def bits(mask: int) -> np.ndarray:
        return np.unpackbits(np.frombuffer(mask.to_bytes(nbytes, "little"), np.uint8), bitorder="little")[:width]

    for time, value in changes:
        if isinstance(value, str):
            digits = value.lower().rjust(width, value[0] if value[0] in "xz" else "0")
            known = int("".join("1" if c in "01" else "0" for c in digits), 2)
            value = int("".join("1" if c == "1" else "0" for c in digits), 2)
        else:
            known = full
        new_state = (state & ~known) | (value & known)
        changed = (state ^ new_state) & seen
        if changed and t0 <= time < t1:
            rises += bits(changed & new_state)
            falls += bits(changed & ~new_state & full)
        state, seen = new_state, seen | known
    return rises, falls


def _single_bit_toggles(changes: list[tuple[int, Any]], t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_bit_toggles` for a one-bit variable (most nets of a netlist), with numpy."""
    if not changes:
        return np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    times = np.array([t for t, _ in changes], dtype=np.float64)
    values = np.array([v if isinstance(v, int) else (int(v) if v in ("0", "1") else -1) for _, v in changes])
    known = values >= 0
    times, values = times[known], values[known]  # an X or Z holds the last known value
    step = np.diff(values)
    inside = (times[1:] >= t0) & (times[1:] < t1)
    return np.array([np.count_nonzero(inside & (step > 0))]), np.array([np.count_nonzero(inside & (step < 0))])
