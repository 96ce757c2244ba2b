"""A compile cache for Verilator's runtime library: every Verilator build compiles the same runtime sources
(``verilated.cpp``, ``verilated_vpi.cpp``, ...) with the same flags, about half the build time of a small
design. Verilator's makefiles run each compile as ``$(OBJCACHE) $(CXX) ...``; :func:`command` is that
``OBJCACHE``: it keeps the object (and its dependency file) of a compile of a source under Verilator's own
``include/`` folder by the hash of the whole command line and the source's size and time, and passes every other
compile through unchanged."""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path


def command(cache: Path) -> str:
    """The ``OBJCACHE`` value that caches into ``cache``."""
    return f"{shlex.quote(sys.executable)} {shlex.quote(__file__)} {shlex.quote(str(cache))}"


def _cached(argv: list[str]) -> bool:
    """Whether a compile is one of the runtime's: ``-c -o X.o .../include/<source>.cpp``."""
    return "-c" in argv and "-o" in argv and Path(argv[-1]).parent.name == "include" and argv[-1].endswith(".cpp")


def main(cache: Path, argv: list[str]) -> int:
    if not _cached(argv):
        return subprocess.call(argv)
    out = Path(argv[argv.index("-o") + 1])
    source = Path(argv[-1]).stat()
    key = hashlib.sha256(_key_text(argv, source.st_size, source.st_mtime_ns).encode()).hexdigest()[:24]
    hit = [cache / f"{key}{ext}" for ext in (".o", ".d")]
    if not hit[0].is_file():
        code = subprocess.call(argv)
        if code:
            return code
        cache.mkdir(parents=True, exist_ok=True)
        for made, kept in zip((out, out.with_suffix(".d")), hit, strict=True):
            if made.is_file():
                tmp = kept.with_suffix(f"{kept.suffix}.{os.getpid()}")
                shutil.copyfile(made, tmp)
                tmp.replace(kept)  # atomic: parallel builds never see half a file
        return 0
    shutil.copyfile(hit[0], out)
    if hit[1].is_file():
        shutil.copyfile(hit[1], out.with_suffix(".d"))
    return 0


def _key_text(argv: list[str], size: int, mtime_ns: int) -> str:
    return "\0".join([*argv, str(size), str(mtime_ns)])


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
