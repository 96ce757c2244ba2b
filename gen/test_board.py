"""Bitstreams of the smallest preset behind the host link, one per FPGA family, with the pip-only toolchain; the
board list from amaranth-boards; clear errors for unusable boards and presets that do not fit."""

import json

import pytest

from gen.__main__ import main as gen_main
from gen.board import BoardError, board, boards, build_bitstream, pll_clock
from gen.presets import design


def test_board_list_comes_from_amaranth_boards():
    known = boards()
    assert known["ulx3s-85f"].family == "ecp5" and known["ulx3s-85f"].device == "LFE5U-85F-BG381"
    assert known["icebreaker"].family == "ice40"
    assert len(known) > 20
    with pytest.raises(BoardError, match="unknown board 'nosuch'.*ulx3s-85f"):
        board("nosuch")
    other = next(name for name, b in known.items() if b.family is None)
    with pytest.raises(BoardError, match=f"board '{other}' .* no pip-only toolchain"):
        board(other)


@pytest.mark.parametrize(("name", "clock_mhz", "bitstream"), [("ulx3s-85f", 50.0, "top.bit"),
                                                              ("icebreaker", None, "top.bin")])
def test_bitstream_and_report(name, clock_mhz, bitstream, tmp_path):
    """ULX3S through its PLL at 50 MHz, iCEBreaker at its 12 MHz oscillator."""
    report = build_bitstream(name, design("mac-ternary-4x4"), tmp_path, clock_mhz=clock_mhz)
    out = tmp_path / name / "mac-ternary-4x4"
    assert (out / bitstream).stat().st_size == report["bitstream_bytes"] > 100_000
    assert json.loads((out / "report.json").read_text()) == report
    assert report["pll"] == (clock_mhz is not None)
    assert report["clock_mhz"] == (clock_mhz or report["board_clock_mhz"])
    assert report["luts"] > 500 and report["ffs"] > 500 and report["brams"] >= 1
    assert report["dsps"] == 0, "the ternary array and the link need no multiplier"
    assert report["timing_met"] and report["fmax_mhz"] >= report["clock_mhz"]
    assert abs(report["baud_error"]) < 0.01
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["link"]["info"] == report["link"]["info"] and manifest["design"]["block"] == "mac_array"


def test_preset_too_big_for_the_board_names_both_sizes(tmp_path):
    with pytest.raises(BoardError, match=r"needs [\d,]+ ICESTORM_LC \(the device has 5,280\).*icebreaker"):
        build_bitstream("icebreaker", design("mac-ternary-4x4", {"rows": 8, "cols": 8}), tmp_path)


def test_pll_parameters_from_the_vendor_tools(tmp_path):
    ecp5 = pll_clock("ecp5", 25e6, 50e6, tmp_path / "ecp5")
    assert ecp5.freq_hz == 50e6 and "EHXPLLL" in ecp5.pll_verilog and not ecp5.pll_on_pad
    ice40 = pll_clock("ice40", 12e6, 24e6, tmp_path / "ice40")
    assert ice40.freq_hz == 24e6 and "SB_PLL40_PAD" in ice40.pll_verilog and ice40.pll_on_pad


def test_bitstream_cli_errors(capsys):
    assert gen_main(["bitstream", "mac-ternary-4x4", "--board", "nosuch"]) == 2
    assert "unknown board 'nosuch'" in capsys.readouterr().err
    assert gen_main(["bitstream", "mac-ternary-4x4", "--board", "ulx3s-85f", "--baud", "9000000"]) == 2
    assert "baud 9000000" in capsys.readouterr().err
