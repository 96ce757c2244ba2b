"""Functional coverage of the benches, with cocotb-coverage.

Every bench samples its block's coverage model while it runs. What all blocks share is here: how long each
stream's beats wait with ``valid`` high and ``ready`` low, how many idle cycles come between beats, and where
a reset lands (idle, with work in flight, with an output stalled). The benches add their own points (tile
switches, token blocks, weight densities, float operand classes x rounding, SLT modes x ports x roles, error
kinds). A point's bins are fixed whatever the configuration, so that every run of one block merges into one
point (a bin one configuration cannot reach is reached by another, or is left out and documented).

Each simulator run writes its database to ``LOWBIT_COVERAGE`` (the runner sets it to ``coverage.yml`` in the
run folder); :func:`merge_report` merges the runs of a pytest session into ``build/report/coverage.{yml,md}``
and lists the bins no run hit.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

COVERAGE_ENV = "LOWBIT_COVERAGE"

#: Cycle-count bins: a beat taken at once (or right after the previous one), after 1, 2-3 or 4 and more cycles.
CYCLE_BINS = ("0", "1", "2-3", "4+")

_samplers: dict[str, Callable[..., None]] = {}


def cycles_bin(n: int) -> str:
    return "0" if n == 0 else "1" if n == 1 else "2-3" if n < 4 else "4+"


def point(name: str, bins: Sequence[Any]) -> Callable[[Any], None]:
    """The sampler of point ``name`` (dotted: ``block.point``): ``sample(value)`` hits the bin equal to it;
    a value outside ``bins`` raises, so that a model that misses a case is noticed."""
    if name not in _samplers:
        from cocotb_coverage.coverage import CoverPoint

        allowed = set(bins)

        @CoverPoint(name, bins=list(bins))
        def sample(value: Any) -> None:
            assert value in allowed, f"coverage point {name}: {value!r} is not one of its bins {list(bins)}"

        _samplers[name] = sample
    return _samplers[name]


def cross(name: str, axes: Mapping[str, Sequence[Any]], ignore: Iterable[tuple] = ()) -> Callable[..., None]:
    """The sampler of a cross: one point per axis (``name.axis``) and their cross (``name.cross``) without the
    ``ignore`` combinations (``None`` matches any bin of that axis); ``sample(*values)`` hits all of them."""
    if name not in _samplers:
        from cocotb_coverage.coverage import CoverCross, CoverPoint

        names = [f"{name}.{axis}" for axis in axes]
        points = [CoverPoint(full, xf=_pick(i), bins=list(bins))
                  for i, (full, bins) in enumerate(zip(names, axes.values(), strict=True))]
        combined = CoverCross(f"{name}.cross", items=names, ign_bins=list(ignore))

        def sample(*values: Any) -> None:
            for value, bins, axis in zip(values, axes.values(), axes, strict=True):
                assert value in bins, f"coverage cross {name}: {axis}={value!r} is not one of {list(bins)}"

        sample = combined(sample)
        for p in reversed(points):
            sample = p(sample)
        _samplers[name] = sample
    return _samplers[name]


def _pick(i: int) -> Callable[..., Any]:
    return lambda *values: values[i]


def enable() -> None:
    """Write this process's database to ``LOWBIT_COVERAGE`` when the simulator exits (a no-op without it)."""
    path = os.environ.get(COVERAGE_ENV)
    if path and not getattr(enable, "done", False):
        enable.done = True
        atexit.register(_export, path)


def _export(path: str) -> None:
    from cocotb_coverage.coverage import coverage_db

    if len(coverage_db):
        coverage_db.export_to_yaml(path)


class StreamMonitor:
    """Watches every stream's handshake each cycle. Samples ``<block>.stream.<name>.hold`` (cycles a beat waits with
    ``valid`` high and ``ready`` low) and ``<block>.<stream>.gap`` (idle cycles, ``valid`` low, since the
    stream's previous beat) for every beat, and ``<block>.reset`` (:meth:`reset_landed`); records the cycle of
    every beat for whoever :meth:`watch`es."""

    RESET_BINS = ("idle", "in_flight", "output_stalled")

    def __init__(self, dut: Any, block: str, streams: Iterable[Any]) -> None:
        self.dut = dut
        self.block = block
        self.ports = [(p, getattr(dut, f"{p.name}__valid"), getattr(dut, f"{p.name}__ready")) for p in streams]
        self.samplers = [(point(f"{block}.stream.{p.name}.hold", CYCLE_BINS),
                          point(f"{block}.stream.{p.name}.gap", CYCLE_BINS))
                         for p, _, _ in self.ports]
        self.watchers: list[list[list[int]]] = [[] for _ in self.ports]

    def watch(self, *names: str) -> dict[str, list[int]]:
        """Lists that fill, from the next clock edge on, with the cycle of each beat of the named streams."""
        index = {p.name: i for i, (p, _, _) in enumerate(self.ports)}
        cycles: dict[str, list[int]] = {name: [] for name in names}
        for name in names:
            self.watchers[index[name]].append(cycles[name])
        return cycles

    async def run(self) -> None:
        from cocotb.triggers import ReadOnly, RisingEdge

        held = [0] * len(self.ports)
        idle = [0] * len(self.ports)
        clk, rst = self.dut.clk, self.dut.rst
        cycle = 0
        while True:
            await RisingEdge(clk)
            await ReadOnly()  # the values the next edge samples
            cycle += 1
            if rst.value:
                held = [0] * len(self.ports)
                idle = [0] * len(self.ports)
                continue
            for i, (_, valid, ready) in enumerate(self.ports):
                if not valid.value:
                    idle[i] += 1
                elif ready.value:
                    hold, gap = self.samplers[i]
                    hold(cycles_bin(held[i]))
                    gap(cycles_bin(idle[i]))
                    held[i] = idle[i] = 0
                    for cycles in self.watchers[i]:
                        cycles.append(cycle)
                else:
                    held[i] += 1

    def reset_landed(self) -> None:
        """Sample where a reset the bench applies now lands."""
        stalled = any(p.is_output and valid.value and not ready.value for p, valid, ready in self.ports)
        busy = getattr(self.dut, "busy", None)
        in_flight = any(valid.value for _, valid, _ in self.ports) or (busy is not None and busy.value)
        value = "output_stalled" if stalled else "in_flight" if in_flight else "idle"
        point(f"{self.block}.reset", self.RESET_BINS)(value)


def merge_report(files: Sequence[Path], out_dir: Path) -> dict[str, Any]:
    """Merge the run databases ``files`` into ``out_dir/coverage.yml`` and write ``coverage.md``: each point's
    bins hit, and every bin no run hit. Returns the totals (``bins``, ``hit``, ``percent``, ``runs``)."""
    import yaml
    from cocotb_coverage.coverage import merge_coverage

    out_dir.mkdir(parents=True, exist_ok=True)
    merged_path = out_dir / "coverage.yml"
    merge_coverage(lambda _msg: None, str(merged_path), *map(str, files))
    db = yaml.safe_load(merged_path.read_text())
    leaves = {name: item for name, item in db.items() if "bins:_hits" in item}
    rows, missed = [], []
    for name in sorted(leaves):
        hits = leaves[name]["bins:_hits"]
        hit = sum(1 for n in hits.values() if n > 0)
        rows.append((name, len(hits), hit))
        missed += [(name, b) for b, n in hits.items() if n == 0]
    bins = sum(r[1] for r in rows)
    hit = sum(r[2] for r in rows)
    totals = {"runs": len(files), "bins": bins, "hit": hit, "percent": round(100 * hit / bins, 2) if bins else 0.0}
    lines = ["# Functional coverage", "",
             f"{len(files)} simulator runs merged; {hit} of {bins} bins hit ({totals['percent']} %).", "",
             "| point | bins | hit | % |", "|---|---:|---:|---:|"]
    lines += [f"| `{name}` | {n} | {h} | {100 * h / n:.0f} |" for name, n, h in rows]
    lines += ["", "## Bins no run hit", ""]
    lines += [f"- `{name}`: {b}" for name, b in missed] or ["None."]
    (out_dir / "coverage.md").write_text("\n".join(lines) + "\n")
    return totals
