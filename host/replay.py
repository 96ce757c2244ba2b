"""Fast simulation of long workloads: a Verilator C++ harness that replays packed beat files through an emitted
design, with no Python per cycle.

The harness is generated from the design's ``manifest.json`` (its stream ports and payload widths) and built once
per Verilog hash under ``build/replay/<top>-<hash>/``. It runs as a server: the design is reset once, then each
request names one file of beats per input stream and how many output beats to read; the harness offers every
input stream's next beat in every cycle (no stalls), keeps every output ready, and answers with the cycles
taken and the output beats. Requests follow each other without a reset, as work does on a board.

Beat files are rows of 32-bit little-endian words, ``ceil(width / 32)`` a beat (``PayloadCodec.pack_words``).
Cycle accounting: a request's cycles run from the first cycle its beats are offered to the cycle of its last
output beat, inclusive. A request stops early, with ``stalled`` set, when ``timeout`` cycles pass with no beat
taken or given, so a malformed stream cannot hang the host.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gen.payload import PayloadCodec
from gen.tools import verilator_env

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "replay"
RESET_CYCLES = 4


@dataclass(frozen=True)
class Result:
    """One request: output beats (rows of 32-bit words), cycles (None from a backend that counts none, a
    board), beats taken per input stream, whether it stalled and the design's ``error`` output (0 when it has
    none) after the request."""

    out: np.ndarray
    cycles: int | None
    taken: dict[str, int]
    stalled: bool
    error: int


def _cpp(port: str) -> str:
    """A port's member name in Verilator's C++ model (which escapes ``__`` as ``___05F``)."""
    return port.replace("__", "___05F")


def _set(port: str, width: int, src: str) -> str:
    """C++ that drives input ``port`` from ``const uint32_t* src``."""
    port = _cpp(port)
    if width <= 32:
        return f"top->{port} = {src}[0];"
    if width <= 64:
        return f"top->{port} = (QData){src}[0] | ((QData){src}[1] << 32);"
    return f"for (int i = 0; i < {-(-width // 32)}; ++i) top->{port}[i] = {src}[i];"


def _get(port: str, width: int, dst: str) -> str:
    """C++ that copies output ``port`` into ``uint32_t* dst``."""
    port = _cpp(port)
    if width <= 32:
        return f"{dst}[0] = top->{port};"
    if width <= 64:
        return f"{dst}[0] = (uint32_t)top->{port}; {dst}[1] = (uint32_t)(top->{port} >> 32);"
    return f"for (int i = 0; i < {-(-width // 32)}; ++i) {dst}[i] = top->{port}[i];"


def harness_source(manifest: dict[str, Any]) -> str:
    """The C++ of the replay server for the design of ``manifest``."""
    top = manifest["top"]
    sinks = [s for s in manifest["streams"] if s["role"] == "sink"]
    sources = [s for s in manifest["streams"] if s["role"] == "source"]
    if len(sources) != 1:
        raise ValueError(f"replay needs exactly one output stream; {manifest['preset']} has {len(sources)}")
    out = sources[0]
    stream_ports = {f"{s['name']}__{suffix}" for s in manifest["streams"] for suffix in ("payload", "valid", "ready")}
    others = [q for q in manifest["ports"] if q["direction"] == "input" and q["name"] not in stream_ports
              and q["name"] not in ("clk", "rst")]
    if others:
        raise ValueError(f"replay drives only streams, clk and rst; {manifest['preset']} also has inputs "
                         f"{[q['name'] for q in others]}")
    has_error = any(q["name"] == "error" for q in manifest["ports"])
    n = len(sinks)
    words = [max(1, -(-s["payload"]["width"] // 32)) for s in sinks]
    out_words = max(1, -(-out["payload"]["width"] // 32))
    drive = "\n".join(
        f"        valid[{i}] = idx[{i}] < count[{i}];\n"
        f"        top->{_cpp(s['name'] + '__valid')} = valid[{i}];\n"
        f"        if (valid[{i}]) {{ const uint32_t* b = &beats[{i}][idx[{i}] * {words[i]}]; "
        f"{_set(s['name'] + '__payload', s['payload']['width'], 'b')} }}"
        for i, s in enumerate(sinks))
    sample = "\n".join(f"        fire[{i}] = valid[{i}] && top->{_cpp(s['name'] + '__ready')};"
                       for i, s in enumerate(sinks))
    o = out["name"]
    return f"""// Replay server for {top}, generated from its manifest by host/replay.py.
#include "V{top}.h"
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

static V{top}* top;

static void tick() {{
    top->clk = 0; top->eval();
    top->clk = 1; top->eval();
}}

static bool load(const std::string& path, std::vector<uint32_t>& into) {{
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) return false;
    std::streamsize size = f.tellg();
    f.seekg(0);
    into.resize(size / 4);
    return bool(f.read(reinterpret_cast<char*>(into.data()), size));
}}

int main(int argc, char** argv) {{
    VerilatedContext* ctx = new VerilatedContext;
    ctx->commandArgs(argc, argv);
    top = new V{top}(ctx);
    top->rst = 1;
    for (int i = 0; i < {RESET_CYCLES}; ++i) tick();
    top->rst = 0;
    std::vector<uint32_t> beats[{n}];
    std::string line;
    while (std::getline(std::cin, line)) {{
        // request: <expected output beats> <timeout cycles> <output file> <one input file per sink stream>
        std::istringstream req(line);
        uint64_t expected, timeout;
        std::string out_path, path;
        req >> expected >> timeout >> out_path;
        size_t count[{n}], idx[{n}];
        bool valid[{n}], fire[{n}];
        bool ok = bool(req);
        for (int i = 0; i < {n}; ++i) {{
            ok = ok && bool(req >> path) && load(path, beats[i]);
            idx[i] = 0;
        }}
{chr(10).join(f"        count[{i}] = beats[{i}].size() / {w};" for i, w in enumerate(words))}
        if (!ok) {{ std::printf("bad request\\n"); std::fflush(stdout); continue; }}
        std::vector<uint32_t> out(expected * {out_words});
        uint64_t got = 0, cycles = 0, idle = 0;
        bool stalled = false;
        top->{_cpp(o + '__ready')} = 1;
        while (got < expected) {{
{drive}
            top->clk = 0; top->eval();
{sample}
            bool progress = false;
            if (top->{_cpp(o + '__valid')}) {{
                uint32_t* d = &out[got * {out_words}];
                {_get(o + '__payload', out['payload']['width'], 'd')}
                ++got; progress = true;
            }}
            top->clk = 1; top->eval();
            ++cycles;
            for (int i = 0; i < {n}; ++i) if (fire[i]) {{ ++idx[i]; progress = true; }}
            idle = progress ? 0 : idle + 1;
            if (idle > timeout) {{ stalled = true; break; }}
        }}
{chr(10).join(f"        top->{_cpp(s['name'] + '__valid')} = 0;" for s in sinks)}
        std::ofstream f(out_path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(out.data()), got * {out_words} * 4);
        f.close();
        std::printf("done %llu %llu %d %d", (unsigned long long)cycles, (unsigned long long)got, stalled ? 1 : 0,
                    {"(int)top->error" if has_error else "0"});
        for (int i = 0; i < {n}; ++i) std::printf(" %zu", idx[i]);
        std::printf("\\n");
        std::fflush(stdout);
    }}
    top->final();
    delete top;
    delete ctx;
    return 0;
}}
"""


def build(manifest_path: Path, out_root: Path = BUILD) -> Path:
    """Build (once per Verilog hash and harness source) the replay server of the design at ``manifest_path``;
    return the executable's path. Raises ``RuntimeError`` with Verilator's output when the build fails."""
    manifest = json.loads(Path(manifest_path).read_text())
    source = harness_source(manifest)
    verilog = Path(manifest_path).parent / f"{manifest['top']}.v"
    key = hashlib.sha256(verilog.read_bytes() + source.encode()).hexdigest()[:16]
    folder = out_root / f"{manifest['top']}-{key}"
    exe = folder / "replay"
    if exe.exists():
        return exe
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "replay.cpp").write_text(source)
    jobs = str(os.cpu_count() or 2)
    cmd = ["verilator", "--cc", "--exe", "--build", "-j", jobs, "-O3", "--x-assign", "fast", "--x-initial", "fast",
           "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", manifest["top"], "-Mdir", str(folder / "obj"),
           "-o", str(exe.resolve()), str(verilog.resolve()), str((folder / "replay.cpp").resolve())]
    env = {**os.environ, **verilator_env()}
    env["MAKEFLAGS"] += " OPT_FAST=-O2"  # the model's per-cycle code at -O2 rather than Verilator's default -Os
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0 or not exe.exists():
        raise RuntimeError(f"building the replay harness failed ({' '.join(cmd)}):\n{done.stdout[-4000:]}"
                           f"\n{done.stderr[-4000:]}")
    return exe


class Replay:
    """A running replay server for one design: ``Replay(manifest_path).run({"weights": w, "acts": a}, 16)``."""

    def __init__(self, manifest_path: str | Path, timeout: int = 10_000) -> None:
        self.manifest = json.loads(Path(manifest_path).read_text())
        self.codecs = {s["name"]: PayloadCodec(s["payload"]) for s in self.manifest["streams"]}
        self.sinks = [s["name"] for s in self.manifest["streams"] if s["role"] == "sink"]
        self.source = next(s["name"] for s in self.manifest["streams"] if s["role"] == "source")
        self.timeout = timeout
        self._dir = tempfile.TemporaryDirectory(prefix="replay-")
        self._proc = subprocess.Popen([str(build(Path(manifest_path)))], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self, beats: dict[str, np.ndarray | Path], expected: int) -> Result:
        """Replay ``beats`` (per input stream a (beats, words) uint32 array, or a file of them) and read
        ``expected`` output beats. A stream not named sends nothing."""
        paths = []
        for name in self.sinks:
            value = beats.get(name, np.zeros((0, self.codecs[name].words), dtype=np.uint32))
            if isinstance(value, Path):
                paths.append(value)
                continue
            path = Path(self._dir.name) / f"{name}.bin"
            np.ascontiguousarray(value, dtype="<u4").tofile(path)
            paths.append(path)
        out_path = Path(self._dir.name) / "out.bin"
        self._proc.stdin.write(f"{expected} {self.timeout} {out_path} {' '.join(map(str, paths))}\n")
        reply = self._proc.stdout.readline().split()
        if not reply or reply[0] != "done":
            raise RuntimeError(f"replay server answered {reply!r}")
        cycles, got, stalled, error, *taken = (int(v) for v in reply[1:])
        out = np.fromfile(out_path, dtype="<u4").reshape(got, self.codecs[self.source].words)
        return Result(out, cycles, dict(zip(self.sinks, taken, strict=True)), bool(stalled), error)

    def stage(self, name: str, words: np.ndarray) -> Path:
        """Write ``words`` once to a beat file of this server's folder, for requests that send them again."""
        path = Path(self._dir.name) / f"staged-{name}.bin"
        np.ascontiguousarray(words, dtype="<u4").tofile(path)
        return path

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            self._proc.wait(timeout=30)
        self._dir.cleanup()

    def __enter__(self) -> Replay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
