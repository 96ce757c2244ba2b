"""The energy flow end to end on the 4 x 4 MAC arrays (RTL and netlist on the same stimulus), and its cross-check
with OpenSTA's report_power on the same activity."""

import dataclasses
import json
import shutil

import numpy as np
import pytest

from gen.presets import design
from synth import tools
from verif.energy import compare, flow, stimulus

needs_liberty = pytest.mark.skipif(tools.liberty() is None, reason=f"no liberty file ({tools.DEFAULT_LIBERTY}, "
                                   "Debian's qflow-tech-osu018)")


def test_ternary_and_int8_4x4_end_to_end(tmp_path):
    """Both arrays' netlists reproduce their RTL's outputs cycle for cycle (the flow raises otherwise); the
    reports carry the schema's fields, the split adds up, and on the same stimuli the ternary array spends
    less energy per MAC than the int8 array, and less at 90 % zero weights than at 33 %. (Standard cells with
    the Debian liberty; generic gates and relative energy without it.)"""
    summary = compare.run(compare.comparisons(None, quick=True), tmp_path, jobs=2)
    (comp,) = summary["comparisons"]
    by_sparsity = {row["sparsity"]: row for row in comp["rows"]}
    for row in comp["rows"]:
        for preset, d in row["designs"].items():
            assert "error" not in d, f"{preset}: {d.get('error')}"
            assert d["ops"] == 8 * 16 * 8
            assert sum(d["split"].values()) == pytest.approx(d["pj_per_op"] * d["ops"], rel=1e-3)
            assert 0.2 < d["clock_share"] < 0.9
        assert 0.3 < row["ratio"]["mac-int8-4x4"] < 0.9
    ternary = [by_sparsity[s]["designs"]["mac-ternary-4x4"]["pj_per_op"] for s in (0.33, 0.9)]
    assert ternary[1] < ternary[0]
    report = json.loads(next((tmp_path / "designs").glob("mac-ternary-4x4--*0-33.json")).read_text())
    for key in ("preset", "block", "config", "flow", "energy_pj", "ops", "pj_per_op", "split", "area_um2",
                "cycles", "window_ns", "stimulus", "tool_versions"):
        assert key in report, key
    assert report["untraced_bits"] == 0


@needs_liberty
@pytest.mark.skipif(shutil.which("sta") is None, reason="OpenSTA (`sta`, Debian package opensta) not installed")
def test_opensta_agrees_where_the_models_agree():
    """OpenSTA's report_power on the same netlist and per-pin activity as this model. Leakage and the switching
    of the flip-flops' nets agree; the rest differs for stated reasons, each checked here:

    - OpenSTA gives no switching power to the nets of the buffers that design inputs drive;
    - OpenSTA charges internal energy on every transition of an arc's related input pin (mean of rise and
      fall), whether the output changes or not, where this model follows the liberty's definition (energy per
      output transition); the model's figure under OpenSTA's rule agrees with OpenSTA to within the slew
      difference (OpenSTA propagates slews through the logic, the model takes them one level deep)."""
    rng = np.random.default_rng(3)
    data = {"x": stimulus.random_acts(rng, (8, 16), 8), "w": stimulus.random_weights(rng, (16, 8), "ternary", 0.33)}
    warm = {"x": stimulus.random_acts(rng, (2, 16), 8), "w": stimulus.random_weights(rng, (16, 8), "ternary", 0.33)}
    check = flow.measure("mac-ternary-4x4", data, warm, "cross-check", opensta=True)["opensta_check"]
    sta, model = check["opensta_pj"], check["model_pj"]
    for group in ("Sequential", "Combinational"):
        assert model[group]["leakage"] == pytest.approx(sta[group]["leakage"], rel=1e-3)
    assert model["Sequential"]["switching"] == pytest.approx(sta["Sequential"]["switching"], rel=0.01)
    comb_switching = model["Combinational"]["switching"] - check["model_input_buffer_switching_pj"]
    assert comb_switching == pytest.approx(sta["Combinational"]["switching"], rel=0.03)
    rule = check["model_internal_opensta_rule_pj"]
    assert rule["Sequential"] == pytest.approx(sta["Sequential"]["internal"], rel=0.05)
    assert rule["Combinational"] == pytest.approx(sta["Combinational"]["internal"], rel=0.15)
    # the liberty's definition gives much less: most input transitions of this logic change no output
    assert model["Combinational"]["internal"] < 0.6 * sta["Combinational"]["internal"]
    assert model["Sequential"]["internal"] < 0.7 * sta["Sequential"]["internal"]


def test_generic_gates_without_a_liberty(monkeypatch):
    """Without a liberty the flow maps to generic gates and reports relative energy, marked as such."""
    monkeypatch.setenv("LIBERTY", "/nonexistent/no.lib")
    rng = np.random.default_rng(4)
    data = {"x": stimulus.random_acts(rng, (4, 8), 8), "w": stimulus.random_weights(rng, (8, 4), "ternary", 0.5)}
    report = flow.measure("mac-ternary-4x4", data, {}, "generic")
    assert report["units"].startswith("relative")
    assert report["nand2_eq"] > 1000 and report["energy_pj"] > 0
    assert report["split"]["leakage"] == 0.0


@needs_liberty
@pytest.mark.skipif(shutil.which("iverilog") is None, reason="clock-gated netlists run on Icarus (Debian iverilog)")
def test_clock_gating_keeps_the_results_and_saves_clock_energy():
    """The clock-gated netlist of the ternary 4 x 4 array (clock gates of library cells) reproduces the RTL's
    outputs on the same stimulus and spends less energy per MAC, most of it saved on the clock."""
    rng = np.random.default_rng(6)
    data = {"x": stimulus.random_acts(rng, (8, 16), 8), "w": stimulus.random_weights(rng, (16, 8), "ternary", 0.33)}
    warm = {"x": stimulus.random_acts(rng, (8, 4), 8), "w": stimulus.random_weights(rng, (4, 4), "ternary", 0.33)}
    plain = flow.measure("mac-ternary-4x4", data, warm, "plain")
    gated = flow.measure("mac-ternary-4x4", data, warm, "gated", clock_gating=True)
    assert gated["clock_gating"] and "LATCH" in flow.netlist("mac-ternary-4x4", clock_gating=True).verilog.read_text()
    assert gated["pj_per_op"] < 0.8 * plain["pj_per_op"]
    assert gated["clock_pj"] < 0.7 * plain["clock_pj"]
    assert gated["area_um2"] < plain["area_um2"]  # the recirculating multiplexers are gone


def test_cli_errors_name_the_argument(capsys):
    from verif.energy.__main__ import main

    assert main(["no-such-comparison"]) == 2
    assert "unknown comparison 'no-such-comparison'" in capsys.readouterr().err
    assert main(["--sparsities", "0.5,1.5"]) == 2
    assert "--sparsities must be comma-separated numbers in [0, 1)" in capsys.readouterr().err


def test_proxy_refit_recovers_known_event_energies():
    """The proxy check on a summary whose energies are made from known per-event and per-cycle energies: the
    refit finds them again, and the event counts are the golden model's (the slt-gemv comparison's designs)."""
    from verif.energy import proxy

    comps = [c for c in compare.comparisons(None, sparsities=(0.0, 0.5, 0.9)) if c.name.startswith("slt")]
    truth = {"addition": 0.8, "read": 0.3, "write": 0.5}
    per_cycle = {"slt-ternary-4x4": 60.0, "slt-ternary-4x4-c8": 75.0, "mac-ternary-gemv-12x4": 25.0}
    summary = {"comparisons": []}
    for comp in comps:
        rows = []
        for s in comp.stimuli:
            designs = {}
            for name in comp.designs:
                preset = name.removesuffix(compare.REORDERED)
                data, _ = s.make(dataclasses.asdict(design(preset).config))
                counts, _ = proxy._events(preset, data, name != preset)
                cycles = 100 + int(counts["write"]) % 37  # any cycle count, different per point
                designs[name] = {"energy_pj": sum(truth[e] * counts[e] for e in truth) + per_cycle[preset] * cycles,
                                 "cycles": cycles}
            rows.append({"stimulus": s.label, "designs": designs})
        summary["comparisons"].append({"name": comp.name, "rows": rows})
    result = proxy.analyse(summary, comps)
    assert result["fit_max_error"] < 1e-6
    for event, pj in truth.items():
        assert result["fit_pj"][event] == pytest.approx(pj, rel=1e-3)
    for preset, pj in per_cycle.items():
        assert result["fit_pj"][f"cycle:{preset}"] == pytest.approx(pj, rel=1e-3)
    assert len(result["points"]) == 3 * 4  # three sparsities x (two engines, the reordered stream, the MAC array)
