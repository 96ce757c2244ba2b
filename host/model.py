"""SmolLM2-135M end to end with every linear layer's integer GEMV on a generated datapath.

:func:`run` generates tokens with the reference forward pass of :mod:`golden.llm`, handing the integer part of
each linear layer to a weight-streaming preset (the MAC array's or the LUT core's GEMV) in the form it computes
(:class:`GemvDatapath`: BitNet b1.58 ``ternary``, or Q4_1's codes as they ship), and the Q8_0 output head's to an
int8 MAC GEMV when one is given, one token's GEMV at a time; the host does the rest (quantizers, scales, norms,
attention) as the reference does. Every GEMV result is compared with the golden integer kernel on the same
inputs and the tokens with the reference's own run, so ``exact`` means bit for bit in every layer.

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

from . import client
from .replay import Replay, Result

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "The capital of France is"
DEFAULT_PRESET = "mac-ternary-gemv-16x16"


class ModelError(RuntimeError):
    """The preset cannot run the model's GEMVs, or a result differs from the golden model."""


@dataclass
class Layer:
    """One linear layer prepared for a datapath: its weight beats (packed once) and where each activation beat
    takes its values from (``act_index``: 0 for padding, ``k + 1`` for activation ``k``). ``blocks`` GEMVs of
    ``K / blocks`` each (the Q4_1 form's blocks of 32) follow each other; ``out_tiles`` output beats in all."""

    n: int
    k: int
    blocks: int
    weight_words: np.ndarray
    act_index: np.ndarray
    first: np.ndarray
    last: np.ndarray
    out_tiles: int


class GemvDatapath:
    """How a weight-streaming preset computes a linear layer's integer GEMV in the form it can: ``ternary``
    (ternary weights, int8 activations: :func:`golden.llm.ternary_dot`) on a ternary MAC array or LUT core,
    ``q4_1`` (Q4_1's unsigned 4-bit codes, int8 activations, one sum per block of 32: :func:`golden.llm.block_sums`)
    on a LUT core with ``weight_kind = "int"``, ``weight_bits = 4``, ``zero_point = 0``, ``q8_0`` (the output
    head's int8 codes, block sums likewise) on an int8 MAC array. Gives the beats of a layer, the activation
    beats of a token, and the results from the output beats."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.manifest, cfg = manifest, manifest["config"]
        block, name = manifest["block"], manifest["preset"]
        if cfg.get("dataflow") != "weight_streaming" or block not in ("mac_array", "lut_core"):
            raise ModelError(f"preset {name}: the model runs on a weight-streaming (GEMV) MAC array or LUT core; "
                             f"this is a {block} with dataflow {cfg.get('dataflow')!r}")
        if cfg["weight_kind"] == "ternary":
            self.form = "ternary"
        elif block == "lut_core" and (cfg["weight_kind"], cfg["weight_bits"], cfg["zero_point"]) == ("int", 4, 0):
            self.form = "q4_1"
        elif block == "mac_array" and cfg["weight_kind"] == "int8":
            self.form = "q8_0"
        else:
            raise ModelError(f"preset {name}: the model's forms need ternary weights, (LUT core) weight_kind "
                             f"'int', weight_bits 4, zero_point 0 for Q4_1 codes, or (MAC array) int8 weights "
                             f"for the Q8_0 head; got {cfg['weight_kind']!r}")
        if cfg["act_bits"] != 8:
            raise ModelError(f"preset {name}: the activations are int8; act_bits must be 8, got {cfg['act_bits']}")
        if block == "lut_core" and cfg.get("table_bits") is not None:
            raise ModelError(f"preset {name}: table_bits rounds the tables; the model needs exact sums "
                             "(table_bits unset)")
        self.block = block
        self.rows, self.cols = (cfg["rows"], cfg["cols"]) if block == "mac_array" else (cfg["k"], cfg["n"])
        self.block_tiles = cfg.get("block_tiles", 1)
        self.max_k = cfg["max_k"]
        self.codecs = {s["name"]: PayloadCodec(s["payload"]) for s in manifest["streams"]}

    def prepare(self, w: np.ndarray) -> Layer:
        """The layer ``w`` ((N, K) ternary weights or Q4_1 codes) as beats; raises :class:`ModelError` when K
        exceeds ``max_k``. A Q4_1 layer is K / 32 GEMVs of K = 32, one a block, in block order."""
        n, k = w.shape
        blocks = 1 if self.form == "ternary" else k // llm.BLOCK
        if k // blocks > self.max_k:
            raise ModelError(f"layer K = {k // blocks} exceeds the preset's max_k = {self.max_k}")
        tiles, ends, acts, first, last, out_tiles = [], [], [], [], [], 0
        span = k // blocks
        for b in range(blocks):
            index = np.arange(b * span + 1, (b + 1) * span + 1)[None, :]
            plan = ternary.stream_plan(index, w[:, b * span:(b + 1) * span].T, self.rows, self.cols,
                                       "weight_streaming", 1, block_tiles=self.block_tiles)
            tiles += plan.weight_beats
            ends += plan.weight_ends
            acts += [d for d, *_ in plan.act_beats]
            first += [f for _, f, *_ in plan.act_beats]
            last += [la for _, _, la, _ in plan.act_beats]
            out_tiles += len(plan.out_beats)
        tiles = np.stack(tiles)
        codec = self.codecs["weights"]
        if self.block == "mac_array":
            codes = ternary.encode_ternary(tiles) if self.form == "ternary" else tiles  # int8: two's complement
            words = codec.pack_words({"": codes}, len(tiles))
        else:
            words = codec.pack_words({"data": self._lut_groups(tiles), "block_end": np.array(ends)}, len(tiles))
        return Layer(n, k, blocks, words, np.array(acts), np.array(first), np.array(last), out_tiles)

    def _lut_groups(self, tiles: np.ndarray) -> np.ndarray:
        """(tiles, k, n) weight tiles as the LUT core's group beats: (tiles, groups, g, n) plane codes or
        (tiles, groups, n) base-3 codes (rows past ``k`` padded with 0, as the bench does)."""
        cfg = self.manifest["config"]
        g, count = cfg["g"], len(tiles)
        groups = -(-cfg["k"] // g)
        padded = np.zeros((count, groups * g, tiles.shape[2]), dtype=np.int64)
        padded[:, : tiles.shape[1]] = tiles
        padded = padded.reshape(count, groups, g, -1)
        if cfg["ternary_packing"] == "base3":
            return lut.pack_base3(padded.transpose(0, 1, 3, 2))
        return lut.encode_weights(padded, cfg["weight_kind"], cfg["weight_bits"], cfg["zero_point"])

    def act_words(self, layer: Layer, x: np.ndarray) -> np.ndarray:
        """One token's (K,) int8 activations as the layer's activation beats."""
        data = np.concatenate([[0], np.asarray(x, dtype=np.int64)])[layer.act_index]
        return self.codecs["acts"].pack_words({"data": data, "first": layer.first, "last": layer.last},
                                              len(data))

    def result(self, layer: Layer, out_words: np.ndarray) -> np.ndarray:
        """The (N,) results of a ternary layer, or the (N, K / 32) block sums of a block-quantized one."""
        y = self.codecs["out"].unpack_words(out_words, "data").reshape(layer.blocks, -1)[:, : layer.n]
        return y[0] if self.form == "ternary" else y.T


@dataclass
class Tally:
    """What the hardware did: cycles and beats by layer kind, GEMVs compared, the first mismatch."""

    cycles: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    weight_beats: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    weight_bytes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    macs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    host_macs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    gemvs: int = 0
    token_passes: int = 0
    mismatch: str | None = None


def link_exchange(design: dict[str, Any], beats: dict[str, np.ndarray], expected: int) -> client.Exchange:
    """One request's beats (rows of 32-bit words per input stream) over the host link (:func:`client.exchange`);
    returns the output beats as rows of words."""
    ints = {name: [PayloadCodec.word_int(row) for row in words] for name, words in beats.items()}
    out = yield from client.exchange(design, ints, expected)
    source = next(s for s in design["streams"] if s["role"] == "source")
    return PayloadCodec(source["payload"]).int_words(out)


class BoardLink:
    """A board built by ``make bitstream`` as the runner's backend (in place of :class:`host.replay.Replay`):
    each GEMV's beats go over the UART link. The board counts no cycles (``cycles`` is None)."""

    def __init__(self, board: client.Board) -> None:
        self.board = board

    def stage(self, name: str, words: np.ndarray) -> np.ndarray:
        return words

    def run(self, beats: dict[str, np.ndarray], expected: int) -> Result:
        out = client.run(link_exchange(self.board.design, beats, expected), self.board.transport)
        return Result(out, None, {name: len(words) for name, words in beats.items()}, False, 0)

    def close(self) -> None:
        self.board.close()


HEAD = ("token_embd", "output")  # the output head's layer names (tied embeddings or its own)


class HardwareKernel:
    """A :data:`golden.llm.Kernel` that runs each GEMV whose form one of ``routes`` computes through that
    route's backend (a :class:`host.replay.Replay` or a :class:`BoardLink`), the rest on the host; checks every
    result against the golden integer kernel and tallies cycles, weight bytes and MACs by layer kind. ``routes``
    maps a form (``ternary``, ``q4_1``, ``q8_0``: the Q8_0 head) to its datapath and backend."""

    def __init__(self, routes: dict[str, tuple[GemvDatapath, Replay | BoardLink]]) -> None:
        self.routes = routes
        self.layers: dict[str, tuple[Layer, Path | np.ndarray]] = {}
        self.tally = Tally()

    def __call__(self, name: str, form: str, codes: np.ndarray, acts: np.ndarray) -> np.ndarray:
        expect = llm.block_sums(codes, acts) if form == "q4_1" else llm.ternary_dot(codes, acts)
        kind = name.split(".")[-1]
        route = "q8_0" if form == "q4_1" and codes.dtype == np.int8 else form  # Q8_0 x Q8_0 takes the q4_1 path
        if route not in self.routes:
            self.tally.host_macs[kind] += codes.size * acts.shape[0]
            return expect
        datapath, backend = self.routes[route]
        if name not in self.layers:
            layer = datapath.prepare(codes)
            self.layers[name] = layer, backend.stage(name, layer.weight_words)
        layer, weights = self.layers[name]
        out = np.empty(expect.shape, dtype=np.int64)
        for t, x in enumerate(acts):
            run = backend.run({"weights": weights, "acts": datapath.act_words(layer, x)}, layer.out_tiles)
            if run.stalled or run.error or len(run.out) != layer.out_tiles:
                raise ModelError(f"{name}: the datapath stalled or flagged an error (stalled={run.stalled}, "
                                 f"error={run.error}, {len(run.out)} of {layer.out_tiles} results)")
            out[t] = datapath.result(layer, run.out)
            if run.cycles is not None:
                self.tally.cycles[kind] += run.cycles
            self.tally.weight_beats[kind] += len(layer.weight_words)
            self.tally.weight_bytes[kind] += len(layer.weight_words) * datapath.codecs["weights"].width / 8
            self.tally.macs[kind] += codes.size
            self.tally.gemvs += 1
            if name == "blk.0.attn_q":
                self.tally.token_passes += 1
        if self.tally.mismatch is None and not np.array_equal(out, expect):
            bad = np.argwhere(out != expect)[0]
            self.tally.mismatch = (f"{name}: token {bad[0]}, output {bad[1:]}: hardware {out[tuple(bad)]}, "
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


def _energy_per_mac(preset: str, form: str, energy_root: Path) -> tuple[float | None, str]:
    """pJ per MAC of ``preset`` on a SmolLM2 stimulus of the energy flow's summary, if it measured one: its Q4_1
    codes for the ``q4_1`` form, its ternarized or int8 weights otherwise."""
    path = energy_root / "summary.json"
    try:
        summary = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None, f"no energy summary ({path.name}): make energy ENERGY=lut-gemv"
    for comparison in summary.get("comparisons", []):
        for row in comparison.get("rows", []):
            design = row.get("designs", {}).get(preset)
            label = str(row.get("stimulus", ""))
            if design and "SmolLM2" in label and ("Q4_1" in label) == (form == "q4_1") and "pj_per_op" in design:
                return float(design["pj_per_op"]), f"energy flow, {comparison['name']}: {row['stimulus']}"
    return None, f"the energy summary has no SmolLM2 row for {preset} (make energy ENERGY=lut-gemv)"


def _open(manifest_path: Path, port: str | None) -> tuple[GemvDatapath, Replay | BoardLink]:
    manifest = json.loads(Path(manifest_path).read_text())
    datapath = GemvDatapath(manifest.get("design", manifest))  # a bitstream's manifest holds the block's
    return datapath, BoardLink(client.Board.open(port, manifest_path)) if port else Replay(manifest_path)


def _part(tally: Tally, kinds: list[str], passes: int) -> dict[str, Any]:
    """Per token: cycles (by layer kind and in all), utilization, weight bytes and MACs of ``kinds``."""
    cycles = sum(tally.cycles[k] for k in kinds)
    beats = sum(tally.weight_beats[k] for k in kinds)
    return {"cycles_per_token": round(cycles / passes) if cycles else None,
            "cycles_per_token_by_layer": {k: round(tally.cycles[k] / passes) for k in kinds if tally.cycles[k]},
            "utilization": round(beats / cycles, 4) if cycles else None,
            "hardware_macs_per_token": round(sum(tally.macs[k] for k in kinds) / passes),
            "weight_bytes_per_token": round(sum(tally.weight_bytes[k] for k in kinds) / passes)}


def run(wheel: Path, manifest_path: Path, prompt: str = PROMPT, tokens: int = 4,
        synth_root: Path = ROOT / "build" / "synth", energy_root: Path = ROOT / "build" / "energy",
        log: Callable[[str], None] = print, port: str | None = None,
        head_manifest: Path | None = None) -> dict[str, Any]:
    """Generate ``tokens`` tokens after ``prompt`` (greedy, in the datapath's form) with every GEMV of that form
    on the design of ``manifest_path`` and, with ``head_manifest``, the output head's Q8_0 GEMV on that design
    (an int8 MAC GEMV); in simulation, or on the board at serial ``port`` (the manifests then are the
    bitstreams' ``manifest.json``). Returns the summary (see ``python -m host model``)."""
    started = time.monotonic()
    routes = {}
    try:
        body = _open(manifest_path, port)
        routes[body[0].form] = body
        if head_manifest is not None:
            head = _open(head_manifest, port)
            if head[0].form != "q8_0":
                raise ModelError(f"the head preset {head[0].manifest['preset']} must be an int8 MAC GEMV (Q8_0 "
                                 "codes)")
            routes["q8_0"] = head
        form = body[0].form
        if form == "q8_0":
            raise ModelError(f"{body[0].manifest['preset']} computes the Q8_0 head only; the body needs a ternary "
                             "or a Q4_1 datapath")
        model = llm.load(wheel)
        ids = model.encode(prompt)
        reference = model.generate(ids, tokens, form, stop_at_eos=False)
        log(f"reference: {model.decode(reference)!r}")
        hardware_started = time.monotonic()
        kernel = HardwareKernel(routes)
        out = model.generate(ids, tokens, form, stop_at_eos=False, kernel=kernel)
        hardware_s = time.monotonic() - hardware_started
    finally:
        for _, backend in routes.values():
            backend.close()
    tally = kernel.tally
    passes = max(tally.token_passes, 1)
    body_kinds = [k for k in tally.macs if k not in HEAD]
    head_kinds = [k for k in tally.macs if k in HEAD]
    summary = {
        "preset": body[0].manifest["preset"], "form": form, "backend": f"board at {port}" if port else "replay",
        "prompt": prompt, "prompt_tokens": len(ids),
        "tokens": out, "text": model.decode(out), "reference_tokens": reference,
        "exact": tally.mismatch is None and out == reference,
        "mismatch": tally.mismatch or (None if out == reference else "token sequence differs"),
        "gemvs": tally.gemvs, "token_passes": tally.token_passes,
        **_part(tally, body_kinds, passes),
        "head": ({"preset": routes["q8_0"][0].manifest["preset"], "form": "q8_0", **_part(tally, head_kinds, passes)}
                 if head_kinds else None),
        "host_macs_per_token": {k: round(v / passes) for k, v in tally.host_macs.items()},
        "wall_s": round(time.monotonic() - started, 1),
        # the hardware run's token rate by the wall clock: a board's link-bound rate, or the simulation's speed
        "wall_tokens_per_s": round(tally.token_passes / hardware_s, 4),
    }
    return rates(summary, synth_root, energy_root)


def rates(summary: dict[str, Any], synth_root: Path = ROOT / "build" / "synth",
          energy_root: Path = ROOT / "build" / "energy") -> dict[str, Any]:
    """``summary`` with its rates from the reports as they are now: each part's (body, head) clock at the fpga
    flow's Fmax and pJ per MAC from the energy flow; tokens/s with the parts in turn (the head after the body),
    J/token of both; the memory roofline. A rate whose report is missing is None, with the reason."""
    parts = [summary] + ([summary["head"]] if summary.get("head") else [])
    seconds, joules = 0.0, 0.0
    for part in parts:
        clock, clock_source = _fpga_clock(part["preset"], synth_root)
        pj, energy_source = _energy_per_mac(part["preset"], part["form"], energy_root)
        part.update({"clock_mhz": clock, "clock_source": clock_source, "pj_per_mac": pj,
                     "energy_source": energy_source})
        cycles = part["cycles_per_token"]
        seconds = seconds + cycles / (clock * 1e6) if seconds is not None and clock and cycles else None
        joules = joules + pj * 1e-12 * part["hardware_macs_per_token"] if joules is not None and pj else None
    summary["tokens_per_s"] = round(1 / seconds, 3) if seconds else None
    summary["joules_per_token"] = round(joules, 9) if joules else None
    summary["roofline"] = roofline(summary)
    return summary


#: Memories a GEMV datapath streams its weights from, by peak bandwidth in bytes/s (every weight is read once a
#: token: no on-chip weight cache). The ULX3S's SDRAM: 16-bit SDR at 143 MHz (its 32 MB part's -7 speed
#: grade; the board's pins: amaranth-boards); one LPDDR4 x16 channel at 4266 MT/s.
MEMORIES = {"ULX3S SDRAM (16-bit SDR, 143 MHz)": 16 / 8 * 143e6, "LPDDR4 x16 channel (4266 MT/s)": 16 / 8 * 4266e6}
#: Published end-to-end figures (other models and chips; shown beside, not compared as like with like).
ANCHORS = [{"name": "bitnet-kv260: BitNet b1.58 2B on a KV260 FPGA", "tokens_per_s": 16.8, "joules_per_token": 0.381},
           {"name": "Slim-Llama: a 1-bit Llama on its ASIC", "tokens_per_s": round(1 / 0.489, 3),
            "joules_per_token": None}]


def roofline(summary: dict[str, Any]) -> dict[str, Any]:
    """The memory side of a run: weight bytes a token (body and head on hardware) and the token rate each of
    :data:`MEMORIES` allows, against the rate at the clock (``tokens_per_s``); the smaller one bounds (None
    while the clock is unknown)."""
    parts = [summary] + ([summary["head"]] if summary.get("head") else [])
    bytes_per_token = sum(p["weight_bytes_per_token"] for p in parts)
    memory = {name: round(bw / bytes_per_token, 2) for name, bw in MEMORIES.items()}
    rate = summary["tokens_per_s"]
    bound = {name: None if rate is None else "memory" if limit < rate else "compute" for name, limit in memory.items()}
    macs = sum(p["hardware_macs_per_token"] for p in parts)
    return {"weight_bytes_per_token": bytes_per_token, "memory_tokens_per_s": memory, "bound": bound,
            "macs_per_weight_byte": round(macs / bytes_per_token, 3)}


def report(out_root: Path) -> list[Path]:
    """``summary.md`` and ``roofline.png`` in ``out_root`` from every ``<preset>/summary.json`` under it, each
    summary's rates refreshed from the synthesis and energy reports as they are now (and written back)."""
    runs = []
    for path in sorted(out_root.glob("*/summary.json")):
        runs.append(rates(json.loads(path.read_text())))
        path.write_text(json.dumps(runs[-1], indent=2) + "\n")
    if not runs:
        return []
    lines = ["# SmolLM2-135M through the GEMV datapaths", "",
             "Every linear layer's integer GEMV on the preset in simulation (the fast replay), the rest on the host; "
             "tokens/s at the fpga flow's Fmax, J/token from the energy flow's pJ per MAC (hardware GEMVs only).", "",
             "| preset | form | head | text | exact | cycles/token | utilization | Fmax MHz | tokens/s | "
             + " | ".join(f"tokens/s, {m}" for m in MEMORIES) + " | pJ/MAC | mJ/token (datapath) |",
             "|" + " --- |" * (11 + len(MEMORIES))]
    for r in runs:
        memory = r.get("roofline", {}).get("memory_tokens_per_s", {})
        cycles = f"{r['cycles_per_token']:,}" if r["cycles_per_token"] else "-"
        use = f"{100 * r['utilization']:.2f} %" if r["utilization"] else "-"
        head = r.get("head") or {}
        if head:
            cycles += f" + {head['cycles_per_token']:,}" if head.get("cycles_per_token") else ""
        head_name = f"{head['preset']} ({head['clock_mhz']} MHz)" if head else "host"
        lines.append(f"| {r['preset']} | {r['form']} | {head_name} | {r['text']!r} | {r['exact']} | {cycles} | "
                     f"{use} | {r['clock_mhz']} | {r['tokens_per_s']} | "
                     + " | ".join(str(memory.get(m)) for m in MEMORIES)
                     + f" | {r['pj_per_mac']} | "
                     + (f"{1e3 * r['joules_per_token']:.3f} |" if r["joules_per_token"] else "None |"))
    lines += ["", "Published, other models and chips: "
              + "; ".join(f"{a['name']}: {a['tokens_per_s']} tokens/s"
                          + (f", {a['joules_per_token']} J/token" if a["joules_per_token"] else "") for a in ANCHORS)]
    (out_root / "summary.md").write_text("\n".join(lines) + "\n")
    written = [out_root / "summary.md"]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    intensity = np.logspace(-1, 2, 50)
    for (name, bw), style in zip(MEMORIES.items(), ("--", ":"), strict=True):
        ax.plot(intensity, bw * intensity / 1e9, style, color="black", label=f"{name}: {bw / 1e6:,.0f} MB/s")
    for r in runs:
        if not (r["clock_mhz"] and r["cycles_per_token"]):
            continue
        peak = r["hardware_macs_per_token"] / r["cycles_per_token"] * r["clock_mhz"] * 1e6 / 1e9
        line = ax.axhline(peak, linewidth=1, label=f"{r['preset']} at {r['clock_mhz']} MHz")
        ai = r["roofline"]["macs_per_weight_byte"]
        ax.plot([ai], [peak], "o", color=line.get_color())
        for bw in MEMORIES.values():
            ax.plot([ai], [min(peak, bw * ai / 1e9)], "x", color=line.get_color())
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("MACs per weight byte streamed (batch 1)")
    ax.set_ylabel("GMAC/s")
    ax.set_title("SmolLM2-135M GEMVs: compute roof (o) and memory-bound rate (x)")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", linewidth=0.3)
    fig.tight_layout()
    fig.savefig(out_root / "roofline.png", dpi=120)
    plt.close(fig)
    return [*written, out_root / "roofline.png"]
