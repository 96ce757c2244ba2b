"""The energy model (``synth.energy``) against a hand calculation from the liberty's numbers, and its parts."""

import json
from pathlib import Path

import numpy as np
import pytest

from synth import energy, tools
from synth.activity import Netlist, activity_from_trace
from synth.liberty import read_liberty

LIB = tools.liberty()
needs_liberty = pytest.mark.skipif(LIB is None, reason=f"no liberty file ({tools.DEFAULT_LIBERTY}, Debian's "
                                   "qflow-tech-osu018)")
V = 1.8


def lerp(x, x0, x1, y0, y1):
    return y0 + (x - x0) / (x1 - x0) * (y1 - y0)


def bilerp(load, slew, loads, slews, rows):
    """Interpolation in a 2 x 2 corner of a liberty table: ``rows[i][j]`` at ``loads[i]``, ``slews[j]``."""
    return lerp(load, *loads, lerp(slew, *slews, *rows[0]), lerp(slew, *slews, *rows[1]))


def toggle_flop(tmp_path: Path) -> Netlist:
    """A DFFPOSX1 whose D is its own Q through an INVX1: Q toggles every cycle."""
    netlist = {"modules": {"toggle": {
        "ports": {"clk": {"direction": "input", "bits": [2]}, "q": {"direction": "output", "bits": [3]}},
        "cells": {"ff": {"type": "DFFPOSX1", "connections": {"CLK": [2], "D": [4], "Q": [3]}},
                  "inv": {"type": "INVX1", "connections": {"A": [3], "Y": [4]}}},
        "netnames": {"clk": {"bits": [2]}, "q": {"bits": [3]}, "d": {"bits": [4]}}}}}
    path = tmp_path / "toggle.json"
    path.write_text(json.dumps(netlist))
    return Netlist.read(path, "toggle")


@needs_liberty
def test_flop_toggling_every_cycle_equals_the_hand_calculation(tmp_path):
    """N cycles of a flip-flop that toggles every cycle, its inverter and their nets, by hand from the OSU
    0.18 um liberty's tables (values copied from the file), with no wire load and no output load on ``q``."""
    netlist = toggle_flop(tmp_path)
    netlist.outputs.clear()
    n = 1000
    activity = {2: (n, n), 3: (n // 2, n // 2), 4: (n // 2, n // 2)}
    got = energy.energy(read_liberty(LIB), netlist, activity, window_ns=10.0 * n, wire_pf_per_fanout=0.0)

    c_clk, c_q, c_d = 0.0279235, 0.00932456, 0.00882947  # DFFPOSX1 CLK, INVX1 A, DFFPOSX1 D
    slew_clk = 0.1  # the ideal clock's nominal slew
    # clock pin: passive rise/fall tables at 0.06 and 0.24 ns
    clock_pin = lerp(slew_clk, 0.06, 0.24, 0.006865, 0.006943) + lerp(slew_clk, 0.06, 0.24, 0.11034, 0.129769)
    # slew of q: the flip-flop's rise/fall transition at c_q, input slew 0.1 (loads 0.005, 0.0125)
    q_rise_tr = bilerp(c_q, 0.1, (0.005, 0.0125), (0.06, 0.24), [(0.036088, 0.043386), (0.04409, 0.050885)])
    q_fall_tr = bilerp(c_q, 0.1, (0.005, 0.0125), (0.06, 0.24), [(0.041962, 0.04207), (0.052151, 0.051175)])
    slew_q = (q_rise_tr + q_fall_tr) / 2
    # slew of d: the inverter's transitions at c_d, input slew 0.1 (slews 0.06, 0.18)
    d_rise_tr = bilerp(c_d, 0.1, (0.005, 0.0125), (0.06, 0.18), [(0.031447, 0.059488), (0.047167, 0.0786)])
    d_fall_tr = bilerp(c_d, 0.1, (0.005, 0.0125), (0.06, 0.18), [(0.032269, 0.0648), (0.036025, 0.0726)])
    slew_d = (d_rise_tr + d_fall_tr) / 2
    # Q's internal energy (related pin CLK, at the clock slew), per rise and per fall
    q_rise = bilerp(c_q, slew_clk, (0.005, 0.0125), (0.06, 0.24), [(0.040752, 0.06407), (0.041217, 0.062027)])
    q_fall = bilerp(c_q, slew_clk, (0.005, 0.0125), (0.06, 0.24), [(0.064773, 0.076646), (0.063395, 0.075613)])
    # the inverter's internal energy at c_d and q's slew
    y_rise = bilerp(c_d, slew_q, (0.005, 0.0125), (0.06, 0.18), [(0.023555, 0.029044), (0.023165, 0.028621)])
    y_fall = bilerp(c_d, slew_q, (0.005, 0.0125), (0.06, 0.18), [(0.009213, 0.004772), (0.009047, 0.005677)])
    # D pin's own table at d's slew (0.06, 0.18)
    d_pin = lerp(slew_d, 0.06, 0.18, 0.045424, 0.045977) + lerp(slew_d, 0.06, 0.18, 0.08841, 0.087952)
    half = n // 2
    expected = {
        "clock pins": n * clock_pin,
        "clock net": 0.5 * c_clk * V**2 * 2 * n,
        "q internal": half * (q_rise + q_fall),
        "inverter internal": half * (y_rise + y_fall),
        "d pin": half * d_pin,
        "nets q and d": 0.5 * (c_q + c_d) * V**2 * n,
        "leakage": (0.160725 + 0.0221741) * 1e-9 * (10.0 * n) * 1e-9 * 1e12,
    }
    assert got.total_pj == pytest.approx(sum(expected.values()), rel=1e-9)
    assert got.clock_pj == pytest.approx(expected["clock pins"] + expected["clock net"], rel=1e-9)
    assert got.kinds["leakage"] == pytest.approx(expected["leakage"], rel=1e-9)
    # The flip-flop alone (its pins and internal energy, without the nets) draws 24 uW at 100 MHz from the tables.
    flop_uw = (expected["clock pins"] + expected["q internal"] + expected["d pin"]) / (10.0 * n) * 1e3  # pJ/ns = mW
    assert flop_uw == pytest.approx(24.0, abs=0.5)


@needs_liberty
def test_liberty_tables_interpolate_and_extrapolate_linearly():
    lib = read_liberty(LIB)
    (_, rise, fall), = lib.cells["INVX1"].pins["Y"].power
    assert rise(0.005, 0.06) == pytest.approx(0.023555)  # a grid point
    assert rise(0.15, 1.2) == pytest.approx(0.057524)
    assert fall(0.0125, 0.12) == pytest.approx((0.005677 + 0.009047) / 2)  # midway on the slew axis
    beyond = rise(0.3, 0.06)  # past the last load: the last segment's slope
    assert beyond == pytest.approx(0.024942 + (0.024942 - 0.024479) / (0.15 - 0.075) * 0.15)
    assert lib.voltage == 1.8 and lib.cells["DFFPOSX1"].sequential and not lib.cells["INVX1"].sequential
    assert lib.cells["DFFPOSX1"].pins["CLK"].clock


def test_register_classes_by_name():
    assert energy.net_class("acc_3[5]", 21) == "accumulators"
    assert energy.net_class("prior_0[1]", 21) == "accumulators"
    assert energy.net_class("out__valid", 1) == "control"
    assert energy.net_class("nonzero_macs[4]", 48) == "control"
    assert energy.net_class("prod_1_2[3]", 9) == "datapath"
    assert energy.net_class("tile_shadow[7]", 32) == "datapath"


def test_toggles_counted_in_the_window_only(tmp_path):
    """A VCD written by hand: rises and falls of a 3-bit vector between the window's edges."""
    vcd = tmp_path / "t.vcd"
    vcd.write_text("\n".join([
        "$timescale 1ps $end", "$scope module top $end", "$var wire 3 ! v [2:0] $end", "$upscope $end",
        "$enddefinitions $end", "#0", "b000 !", "#1000", "b011 !", "#2000", "b110 !", "#3000", "b001 !",
        "#4000", "b111 !", ""]))
    netlist = Netlist("top", {}, {10: ["v[0]"], 11: ["v[1]"], 12: ["v[2]"]}, set(), set(), None)
    activity, missing = activity_from_trace(vcd, netlist, (1.0, 4.0))  # ns: changes at 1, 2, 3
    assert missing == 0
    # v[0]: 0->1 at 1, 1->0 at 2, 0->1 at 3; v[1]: 0->1 at 1, 1->0 at 3; v[2]: 0->1 at 2, 1->0 at 3
    assert activity == {10: (2, 1), 11: (1, 1), 12: (1, 1)}
    assert np.isclose(sum(sum(a) for a in activity.values()), 7)


def test_unknown_bits_hold_their_last_known_value(tmp_path):
    """Four-state traces: an X or Z bit counts no transition; a known value after it counts against the last
    known value (0 -> x -> 1 is one rise, 1 -> x -> 1 none)."""
    vcd = tmp_path / "x.vcd"
    vcd.write_text("\n".join([
        "$timescale 1ns $end", "$scope module top $end", "$var wire 2 ! v [1:0] $end", "$upscope $end",
        "$enddefinitions $end", "#0", "bxx !", "#1", "b01 !", "#2", "bx1 !", "#3", "b11 !", "#4", "b1x !",
        "#5", "b10 !", ""]))
    netlist = Netlist("top", {}, {10: ["v[0]"], 11: ["v[1]"]}, set(), set(), None)
    activity, _ = activity_from_trace(vcd, netlist, (0.0, 10.0))
    # v[0]: x, 1, 1, 1, x, 0 -> one fall; v[1]: x, 0, x, 1, 1, 1 -> one rise
    assert activity == {10: (0, 1), 11: (1, 0)}



@needs_liberty
def test_cli_rejects_a_bad_window(capsys):
    from synth.__main__ import main

    assert main(["energy", "mac-ternary-4x4", "--window", "5:1"]) == 2
    assert "--window must be START:END" in capsys.readouterr().err
