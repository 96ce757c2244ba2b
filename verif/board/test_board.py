"""The host link around a block, whole (UART pins to UART pins), on both simulators."""

import pytest

from rtl.board import HostLinkConfig
from verif.runner import emit_design, lint_wall, run_bench, simulators

#: A fast link for simulation: 8 clock cycles a bit, a 64-byte frame buffer, short stall and frame timeouts.
SIM_LINK = HostLinkConfig(divisor=8, max_payload=64, frame_timeout_bits=40, stall_limit=64)


@pytest.mark.parametrize("sim", simulators())
@pytest.mark.parametrize("preset", ["mac-ternary-4x4"])
def test_host_link_bench(preset, sim):
    run_bench(emit_design(preset, link=SIM_LINK), "verif.board.bench", sim)


@pytest.mark.lint
def test_linked_top_lint_wall():
    proc = lint_wall(emit_design("mac-ternary-4x4", link=SIM_LINK))
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize("sim", simulators())
def test_model_runner_board_path(sim):
    """``python -m host model --port``'s exchanges, on a GEMV preset behind the link (bench: model_bench)."""
    run_bench(emit_design("mac-ternary-gemv-12x4", link=SIM_LINK), "verif.board.model_bench", sim)
