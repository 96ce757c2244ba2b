"""Every preset's Verilog is clean under ``verilator --lint-only -Wall`` (documented waivers only) and parses in
Icarus."""

import shutil
import subprocess

import pytest

from gen.presets import load_presets
from verif.runner import emit_design, lint_wall

pytestmark = pytest.mark.lint
#: The Slim-Llama-class preset (4,096 S-LUTs) takes minutes to generate and lint.
LONG = {"slt-slim-llama"}
PRESETS = [pytest.param(p, marks=pytest.mark.long) if p in LONG else p for p in load_presets()]


@pytest.mark.parametrize("preset", PRESETS)
def test_verilator_lint_wall(preset):
    proc = lint_wall(emit_design(preset))
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize("preset", PRESETS)
def test_icarus_parses(preset, tmp_path):
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog (Debian package `iverilog`) is not installed")
    manifest = emit_design(preset)
    sources = list(manifest.parent.glob("*.v"))
    proc = subprocess.run(["iverilog", "-g2012", "-o", str(tmp_path / "a.out"), *map(str, sources)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


#: Configurations outside the presets whose Verilog once failed the lint: SLT Buffer groups of 3 and 5 passes
#: (a pass index that does not fill its bits).
EDGE_CONFIGS = [("slt-small", {"g": 4, "k": 24, "read_ports": 1}), ("slt-small", {"g": 6, "k": 24}),
                ("slt-small", {"g": 6, "k": 24, "read_ports": 1})]


@pytest.mark.parametrize(("preset", "overrides"), EDGE_CONFIGS)
def test_verilator_lint_wall_edge_configs(preset, overrides):
    proc = lint_wall(emit_design(preset, overrides))
    assert proc.returncode == 0, proc.stderr[-3000:]
