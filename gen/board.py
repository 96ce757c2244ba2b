"""A preset behind the UART host link (``rtl.board.LinkedBlock``): its Verilog and manifest."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from rtl.board import HostLinkConfig, LinkedBlock

from .manifest import build_manifest, describe_ports, to_verilog
from .presets import Design


def linked(design: Design, link: HostLinkConfig) -> tuple[LinkedBlock, Any]:
    """The design's component and the link around it."""
    component = design.block.component(design.config)
    return LinkedBlock(component, link), component


def link_manifest(design: Design, link: HostLinkConfig, top: LinkedBlock, component: Any, text: str,
                  top_name: str) -> dict[str, Any]:
    """The linked top's manifest: its own ports (no streams: the UART pins), the link's parameters and INFO
    bytes, and under ``design`` the block's manifest, which the host client encodes beats with."""
    block = build_manifest(design, component, text)
    ports, _ = describe_ports(top)
    return {**block, "top": top_name, "ports": ports, "streams": [],
            "verilog_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "link": {**dataclasses.asdict(link), "info": top.info}, "design": block}


def emit_linked(design: Design, link: HostLinkConfig, out_root: Path) -> Path:
    """Write ``<out_root>/<design>-link<divisor>/<top>_linked.v`` and its manifest; return the manifest path."""
    top, component = linked(design, link)
    name = f"{design.config.top_name}_linked"
    text = to_verilog(top, name, inner=component)
    out_dir = out_root / f"{design.name}-link{link.divisor}"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.v").write_text(text)
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(link_manifest(design, link, top, component, text, name), indent=2) + "\n")
    return path
