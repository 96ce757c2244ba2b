"""Configuration fuzzing: ``python -m gen verilog <preset> --set ...`` with drawn fields and values.

Every draw ends in one of two ways, never in a traceback:

- exit 2 and one line on stderr, ``error: ...``, that names an overridden field (a constraint that ties two fields
  names both, so the one that was overridden is among them);
- exit 0 and a design whose Verilog passes ``verilator --lint-only -Wall`` with the documented waivers, whose top
  module's ports are the manifest's (names, directions, widths), and whose stream payloads have the widths and
  lane counts the config derives (activation and accumulator words, float operands).

Drawn values: integers around and far outside every bound, floats (``2.0`` is not ``2``), booleans, strings,
arrays, TOML that does not parse (kept as a string), fields that do not exist, text without ``=``. Sizes stay
small enough that an accepted design lints in seconds. The suite runs a fixed, derandomized budget per base
preset (``CONFIG_FUZZ_EXAMPLES``, default 6); ``make fuzz`` runs a longer, randomized one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gen.__main__ import main as gen_main
from gen.presets import design, load_presets, parse_overrides
from gen.registry import block
from verif.runner import lint_wall

pytestmark = pytest.mark.lint

#: One small preset of each block and weight kind: accepted draws are emitted and linted.
BASES = ["mac-ternary-4x4", "mac-int8-4x4", "lmul-e4m3", "fpmul-e4m3", "lmul-dot-e4m3-x8", "lut-ternary-16x8",
         "lut-int2-serial-4x64", "slt-small", "slt-ternary-4x4"]
EXAMPLES = int(os.environ.get("CONFIG_FUZZ_EXAMPLES", "6"))
RANDOM = os.environ.get("CONFIG_FUZZ_RANDOM", "0") == "1"
#: Sizes above this are not drawn from the presets' values: an accepted 64 x 64 array lints in minutes.
SIZE_CAP = 32


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)  # int, float (nan and inf are TOML floats too)


def _preset_values(block_name: str, field: str) -> list[object]:
    """The values the presets of ``block_name`` give ``field`` (plausible, usually valid), small sizes only."""
    values = {json.dumps(entry[field]) for entry in load_presets().values()
              if entry["block"] == block_name and field in entry}
    decoded = [json.loads(v) for v in sorted(values)]
    return [v for v in decoded if not (isinstance(v, int) and not isinstance(v, bool) and v > SIZE_CAP)]


def _value_texts(block_name: str, field: str, hint: object) -> st.SearchStrategy[str]:
    """TOML text for ``field``: six draws in ten a plausible value of its type (a preset's value, a small
    integer, a boolean), else a value of another type, an integer far out of range or text that is not TOML."""
    plausible = [st.integers(-1, 24)]
    if values := _preset_values(block_name, field):
        plausible.insert(0, st.sampled_from(values))
    if hint is bool:
        plausible.insert(0, st.booleans())
    odd = st.one_of(st.sampled_from([2**16, 2**31, 2**64, -(2**63)]), st.integers(-2, 8).map(float),
                    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text("abcz_-1", max_size=5),
                    st.lists(st.integers(0, 3), max_size=2))
    not_toml = st.sampled_from(["", "[", "3 4", "'x", "0x1g", "1__0", "+-2"])
    return st.integers(0, 9).flatmap(lambda kind: st.one_of(*plausible).map(_toml) if kind < 6 else
                                     st.one_of(odd.map(_toml), not_toml))


@st.composite
def overrides(draw, preset: str) -> list[tuple[str, str]]:
    """One to three ``(field, TOML text)`` pairs: existing fields mostly, sometimes an unknown one."""
    blk = block(load_presets()[preset]["block"])
    hints = typing.get_type_hints(blk.config_class)
    names = [f.name for f in dataclasses.fields(blk.config_class)]
    pairs = []
    for _ in range(draw(st.sampled_from([1, 1, 2, 3]))):
        name = draw(st.sampled_from(names) if draw(st.integers(0, 19)) else
                    st.sampled_from(["row", "Rows", "weights", "block"]))
        text = draw(_value_texts(blk.name, name, hints.get(name)))
        pairs.append((name, text))
    return pairs


def _verilog_ports(source: Path, top: str) -> dict[str, tuple[str, int]]:
    """``{name: (direction, width)}`` of module ``top`` in ``source`` (Amaranth's Verilog backend's layout)."""
    text = source.read_text()
    body = re.search(rf"^module {re.escape(top)}\(.*?^endmodule", text, re.S | re.M)
    assert body, f"module {top} not found in {source.name}"
    ports = {}
    for direction, msb, lsb, name in re.findall(r"^\s*(input|output)\s+(?:\[(\d+):(\d+)\]\s+)?(\w+);",
                                                body.group(0), re.M):
        ports[name] = (direction, int(msb) - int(lsb) + 1 if msb else 1)
    return ports


def _expected_streams(block_name: str, cfg) -> dict[tuple[str, str], tuple[int, int]]:
    """``{(stream, leaf path with indices dropped): (width, leaves)}`` the config derives, for the words that
    carry numbers (activations, accumulators, float operands and results)."""
    if block_name in ("mac_array", "lut_core", "slt"):
        act_lanes = {"mac_array": "rows", "lut_core": "k", "slt": "k"}[block_name]
        out_lanes = {"mac_array": "cols", "lut_core": "n", "slt": "rows"}[block_name]
        return {("acts", "data[]"): (cfg.act_bits, getattr(cfg, act_lanes)),
                ("out", "data[]"): (cfg.acc_width, getattr(cfg, out_lanes))}
    width = 1 + cfg.exp_bits + cfg.man_bits
    if block_name == "fp_dot":
        return {("operands", "a[]"): (width, cfg.lanes), ("operands", "b[]"): (width, cfg.lanes),
                ("result", "sum"): (1 + cfg.acc_exp_bits + cfg.acc_man_bits, 1)}
    return {("operands", "a"): (width, 1), ("operands", "b"): (width, 1), ("result", "product"): (width, 1)}


def _check_design(preset: str, fields: dict[str, object], out: Path) -> None:
    d = design(preset, fields)
    manifest_path = out / d.name / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    proc = lint_wall(manifest_path)
    assert proc.returncode == 0, f"{preset} {fields}: lint failed\n{proc.stderr[-3000:]}"

    ports = _verilog_ports(manifest_path.parent / f"{manifest['top']}.v", manifest["top"])
    declared = {p["name"]: (p["direction"], p["width"]) for p in manifest["ports"]}
    assert ports == declared, f"{preset} {fields}: Verilog ports differ from the manifest's"
    found: dict[tuple[str, str], tuple[set[int], int]] = {}
    for stream in manifest["streams"]:
        for leaf in stream["payload"]["fields"]:
            key = (stream["name"], re.sub(r"\[\d+\]", "[]", leaf["path"]))
            widths, count = found.get(key, (set(), 0))
            found[key] = (widths | {leaf["width"]}, count + 1)
        assert declared[f"{stream['name']}__payload"][1] == stream["payload"]["width"]
    for key, (width, lanes) in _expected_streams(d.block.name, d.config).items():
        assert found.get(key) == ({width}, lanes), (f"{preset} {fields}: {key} has {found.get(key)}, "
                                                    f"the config derives {lanes} x {width} bits")


def _run(preset: str, pairs: list[tuple[str, str]], out: Path, capsys) -> None:
    argv = ["verilog", preset, "--out", str(out)]
    for name, text in pairs:
        argv += ["--set", f"{name}={text}"]
    capsys.readouterr()
    code = gen_main(argv)  # an exception here is the failure this test looks for
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if not line.startswith("warning: ")]
    if code == 2:
        assert len(errors) == 1 and errors[0].startswith("error: "), f"{argv}: not one error line:\n{err}"
        named = [name for name, _ in pairs if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", errors[0])]
        assert named, f"{argv}: the error names none of the overridden fields: {errors[0]}"
        return
    assert code == 0 and not errors, f"{argv}: exit {code}\n{err}"
    _check_design(preset, parse_overrides([f"{n}={t}" for n, t in pairs]), out)


@pytest.mark.parametrize("preset", BASES)
def test_config_fuzz(preset, tmp_path_factory, capsys):
    out = tmp_path_factory.mktemp("fuzz")

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(pairs=overrides(preset))
    def check(pairs):
        _run(preset, pairs, out, capsys)

    check()


def test_malformed_set_is_one_error_line(tmp_path, capsys):
    """``--set`` text without ``=``, an empty field name and a repeated field: exit 2, one line, no design."""
    for sets in (["rows"], ["=4"], ["rows=4", "rows=8"]):
        argv = ["verilog", "mac-ternary-4x4", "--out", str(tmp_path)]
        for text in sets:
            argv += ["--set", text]
        assert gen_main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert not any(tmp_path.iterdir())
