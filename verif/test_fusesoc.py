"""The FuseSoC core written beside every emitted design parses with the ``fusesoc`` package, and its lint target
runs Verilator through FuseSoC (edalize) and passes."""

import subprocess
import sys
from pathlib import Path

from gen.manifest import emit
from gen.presets import design
from verif.runner import ensure_simulator

FUSESOC = str(Path(sys.executable).parent / "fusesoc")


def _fusesoc(cores: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([FUSESOC, "--cores-root", str(cores), *args], capture_output=True, text=True,
                          cwd=cores)


def test_cores_parse_list_and_lint(tmp_path):
    ensure_simulator("verilator")
    cores = tmp_path / "cores"
    names = []
    for preset, overrides in (("mac-ternary-4x4", None), ("lmul-e4m3", None), ("lmul-e4m3", {"stages": 2}),
                              ("slt-small", None)):
        d = design(preset, overrides)
        emit(d, cores)
        names.append(f"lowbit-rtl:{d.block.name}:{d.config.top_name}")
    listed = _fusesoc(cores, "core", "list")
    assert listed.returncode == 0, listed.stderr
    for name in names:  # two variants of one preset are two cores
        assert name in listed.stdout, listed.stdout
    shown = _fusesoc(cores, "core", "show", names[0])
    targets = {line.split(":")[0].strip() for line in shown.stdout.split("Targets:")[-1].splitlines() if line}
    assert shown.returncode == 0 and targets == {"default", "lint", "sim"}, shown.stdout
    for i, name in enumerate((names[0], names[3])):
        build = tmp_path / f"build{i}"
        run = _fusesoc(cores, "run", "--build-root", str(build), "--target", "lint", name)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert list(build.rglob("manifest.json")), "the manifest is not copied beside the lint run"
