"""SmolLM2-135M end to end with every linear layer's integer GEMV on a generated datapath.

:func:`run` generates tokens with the reference forward pass of :mod:`golden.llm`, handing the integer part of
each linear layer (the BitNet b1.58 ``ternary`` form: ternary weights times int8 activations) to a
weight-streaming preset (the MAC array's or the LUT core's GEMV), one token's GEMV at a time; the host does the
rest (quantizers, scales, norms, attention, the Q8_0 output head) as the reference does. Every GEMV result is
compared with :func:`golden.llm.ternary_dot` on the same inputs and the tokens with the reference's own run, so
``exact`` means bit for bit in every layer.

The stream order is the golden model's (:func:`golden.ternary.stream_plan`, taken once per layer with index
activations); weights are encoded and packed once per layer; each GEMV goes to the fast Verilator replay
(:mod:`host.replay`). Cycles are the replay's: from a GEMV's first beat offered to its last result, no stalls.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gen.payload import PayloadCodec
from golden import llm, lut, ternary

from .replay import Replay

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "The capital of France is"
DEFAULT_PRESET = "mac-ternary-gemv-16x16"


class ModelError(RuntimeError):
    """The preset cannot run the model's GEMVs, or a result differs from the golden model."""


@dataclass
class Layer:
    """One linear layer prepared for a datapath: its weight beats (packed once) and where each activation beat
    takes its values from (``act_index``: 0 for padding, ``k + 1`` for activation ``k``)."""

    n: int
    k: int
    weight_words: np.ndarray
    act_index: np.ndarray
    first: np.ndarray
    last: np.ndarray
    out_tiles: int


class GemvDatapath:
    """How a weight-streaming preset computes ``y = W x`` for ternary ``W`` (N x K) and int8 ``x``: the beats
    of a layer, the activation beats of a token, the results from the output beats."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.manifest, cfg = manifest, manifest["config"]
        block = manifest["block"]
        if cfg.get("dataflow") != "weight_streaming" or block not in ("mac_array", "lut_core"):
            raise ModelError(f"preset {manifest['preset']}: the model runs on a weight-streaming (GEMV) MAC array "
                             f"or LUT core; this is a {block} with dataflow {cfg.get('dataflow')!r}")
        if cfg["weight_kind"] != "ternary" or cfg["act_bits"] != 8:
            raise ModelError(f"preset {manifest['preset']}: the ternary form needs weight_kind 'ternary' and "
                             f"act_bits 8, got {cfg['weight_kind']!r} and {cfg['act_bits']}")
        if block == "lut_core" and cfg.get("table_bits") is not None:
            raise ModelError(f"preset {manifest['preset']}: table_bits rounds the tables; the model needs exact "
                             "sums (table_bits unset)")
        self.block = block
        self.rows, self.cols = (cfg["rows"], cfg["cols"]) if block == "mac_array" else (cfg["k"], cfg["n"])
        self.block_tiles = cfg.get("block_tiles", 1)
        self.max_k = cfg["max_k"]
        self.codecs = {s["name"]: PayloadCodec(s["payload"]) for s in manifest["streams"]}

    def prepare(self, w: np.ndarray) -> Layer:
        """The layer ``w`` ((N, K) in {-1, 0, 1}) as beats; raises :class:`ModelError` when K exceeds ``max_k``."""
        n, k = w.shape
        if k > self.max_k:
            raise ModelError(f"layer K = {k} exceeds the preset's max_k = {self.max_k}")
        index = np.arange(1, k + 1)[None, :]
        plan = ternary.stream_plan(index, w.T, self.rows, self.cols, "weight_streaming", 1,
                                   block_tiles=self.block_tiles)
        tiles = np.stack(plan.weight_beats)
        codec = self.codecs["weights"]
        if self.block == "mac_array":
            words = codec.pack_words({"": ternary.encode_ternary(tiles)}, len(tiles))
        else:
            words = codec.pack_words({"data": self._lut_groups(tiles), "block_end": np.array(plan.weight_ends)},
                                     len(tiles))
        acts = np.array([d for d, *_ in plan.act_beats])
        return Layer(n, k, words, acts, np.array([f for _, f, *_ in plan.act_beats]),
                     np.array([la for _, _, la, _ in plan.act_beats]), len(plan.out_beats))

    def _lut_groups(self, tiles: np.ndarray) -> np.ndarray:
        """(tiles, k, n) ternary tiles as the LUT core's group beats: (tiles, groups, g, n) two-plane codes or
        (tiles, groups, n) base-3 codes (rows past ``k`` padded with 0, as the bench does)."""
        cfg = self.manifest["config"]
        g, count = cfg["g"], len(tiles)
        groups = -(-cfg["k"] // g)
        padded = np.zeros((count, groups * g, tiles.shape[2]), dtype=np.int64)
        padded[:, : tiles.shape[1]] = tiles
        padded = padded.reshape(count, groups, g, -1)
        if cfg["ternary_packing"] == "base3":
            return lut.pack_base3(padded.transpose(0, 1, 3, 2))
        return lut.encode_weights(padded, "ternary", cfg["weight_bits"])

    def act_words(self, layer: Layer, x: np.ndarray) -> np.ndarray:
        """One token's (K,) int8 activations as the layer's activation beats."""
        data = np.concatenate([[0], np.asarray(x, dtype=np.int64)])[layer.act_index]
        return self.codecs["acts"].pack_words({"data": data, "first": layer.first, "last": layer.last},
                                              len(data))

    def result(self, layer: Layer, out_words: np.ndarray) -> np.ndarray:
        return self.codecs["out"].unpack_words(out_words, "data").reshape(-1)[: layer.n]


@dataclass
class Tally:
    """What the hardware did: cycles and beats by layer kind, GEMVs compared, the first mismatch."""

    cycles: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    weight_beats: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    macs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    host_macs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gemvs: int = 0
    token_passes: int = 0
    mismatch: str | None = None


class HardwareKernel:
    """A :data:`golden.llm.Kernel` that runs the ternary form's GEMVs on ``datapath`` through ``backend`` (a
    :class:`host.replay.Replay`), checks each against the golden integer kernel, and tallies cycles."""

    def __init__(self, datapath: GemvDatapath, backend: Replay) -> None:
        self.datapath, self.backend = datapath, backend
        self.layers: dict[str, tuple[Layer, Path]] = {}
        self.tally = Tally()

    def __call__(self, name: str, form: str, codes: np.ndarray, acts: np.ndarray) -> np.ndarray:
        expect = llm.block_sums(codes, acts) if form == "q4_1" else llm.ternary_dot(codes, acts)
        kind = name.split(".")[-1]
        if form != "ternary":  # the Q8_0 output head stays on the host, as BitNet keeps it in high precision
            self.tally.host_macs[kind] += codes.size * acts.shape[0]
            return expect
        if name not in self.layers:
            layer = self.datapath.prepare(codes)
            self.layers[name] = layer, self.backend.stage(name, layer.weight_words)
        layer, weights = self.layers[name]
        out = np.empty((acts.shape[0], layer.n), dtype=np.int64)
        for t, x in enumerate(acts):
            run = self.backend.run({"weights": weights, "acts": self.datapath.act_words(layer, x)},
                                   layer.out_tiles)
            if run.stalled or run.error or len(run.out) != layer.out_tiles:
                raise ModelError(f"{name}: the datapath stalled or flagged an error (stalled={run.stalled}, "
                                 f"error={run.error}, {len(run.out)} of {layer.out_tiles} results)")
            out[t] = self.datapath.result(layer, run.out)
            self.tally.cycles[kind] += run.cycles
            self.tally.weight_beats[kind] += len(layer.weight_words)
            self.tally.macs[kind] += codes.size
            self.tally.gemvs += 1
            if name == "blk.0.attn_q":
                self.tally.token_passes += 1
        if self.tally.mismatch is None and not np.array_equal(out, expect):
            bad = np.argwhere(out != expect)[0]
            self.tally.mismatch = (f"{name}: token {bad[0]}, output {bad[1]}: hardware {out[tuple(bad)]}, "
                                   f"golden {expect[tuple(bad)]}")
        return out


def _fpga_clock(preset: str, synth_root: Path) -> tuple[float | None, str]:
    path = synth_root / preset / "fpga.json"
    try:
        report = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None, f"no fpga report ({path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}): " \
                     f"make synth PRESET={preset} FLOWS=fpga"
    fmax = report.get("fmax_mhz")
    return (float(fmax), f"fpga flow Fmax, {report.get('device', 'ECP5')}") if fmax else \
        (None, f"the fpga report of {preset} has no Fmax")


def _energy_per_mac(preset: str, energy_root: Path) -> tuple[float | None, str]:
    """pJ per MAC of ``preset`` on the SmolLM2 stimulus of the energy flow's summary, if it measured one."""
    path = energy_root / "summary.json"
    try:
        summary = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None, f"no energy summary ({path.name}): make energy ENERGY=lut-gemv"
    for comparison in summary.get("comparisons", []):
        for row in comparison.get("rows", []):
            design = row.get("designs", {}).get(preset)
            if design and "SmolLM2" in str(row.get("stimulus", "")) and "pj_per_op" in design:
                return float(design["pj_per_op"]), f"energy flow, {comparison['name']}: {row['stimulus']}"
    return None, f"the energy summary has no SmolLM2 row for {preset} (make energy ENERGY=lut-gemv)"


def run(wheel: Path, manifest_path: Path, prompt: str = PROMPT, tokens: int = 4,
        synth_root: Path = ROOT / "build" / "synth", energy_root: Path = ROOT / "build" / "energy",
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """Generate ``tokens`` tokens after ``prompt`` (greedy, the ternary form) with every ternary GEMV on the
    design of ``manifest_path`` in simulation; return the summary (see ``python -m host model``)."""
    manifest = json.loads(Path(manifest_path).read_text())
    datapath = GemvDatapath(manifest)
    started = time.monotonic()
    model = llm.load(wheel)
    ids = model.encode(prompt)
    reference = model.generate(ids, tokens, "ternary", stop_at_eos=False)
    log(f"reference: {model.decode(reference)!r}")
    with Replay(manifest_path) as backend:
        kernel = HardwareKernel(datapath, backend)
        out = model.generate(ids, tokens, "ternary", stop_at_eos=False, kernel=kernel)
    tally = kernel.tally
    passes = max(tally.token_passes, 1)
    cycles = sum(tally.cycles.values())
    beats = sum(tally.weight_beats.values())
    clock, clock_source = _fpga_clock(manifest["preset"], synth_root)
    pj, energy_source = _energy_per_mac(manifest["preset"], energy_root)
    per_token = cycles / passes
    macs = sum(tally.macs.values()) / passes
    weight_bits = manifest["streams"][0]["payload"]["width"]
    exact = tally.mismatch is None and out == reference
    summary = {
        "preset": manifest["preset"], "form": "ternary", "prompt": prompt, "prompt_tokens": len(ids),
        "tokens": out, "text": model.decode(out), "reference_tokens": reference, "exact": exact,
        "mismatch": tally.mismatch or (None if out == reference else "token sequence differs"),
        "gemvs": tally.gemvs, "token_passes": tally.token_passes,
        "cycles_per_token": round(per_token),
        "cycles_per_token_by_layer": {k: round(v / passes) for k, v in tally.cycles.items()},
        "utilization": round(beats / cycles, 4) if cycles else None,
        "hardware_macs_per_token": round(macs),
        "host_macs_per_token": {k: round(v / passes) for k, v in tally.host_macs.items()},
        "weight_bytes_per_token": round(beats / passes * weight_bits / 8),
        "clock_mhz": clock, "clock_source": clock_source,
        "tokens_per_s": round(clock * 1e6 / per_token, 3) if clock and per_token else None,
        "pj_per_mac": pj, "energy_source": energy_source,
        "joules_per_token": round(pj * 1e-12 * macs, 9) if pj else None,
        "wall_s": round(time.monotonic() - started, 1),
    }
    return summary
