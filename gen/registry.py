"""One entry per block: its name, config class and component. Generic code iterates over this table only."""

from __future__ import annotations

from dataclasses import dataclass

from rtl.mac_array import MacArray, MacArrayConfig


@dataclass(frozen=True)
class Block:
    name: str
    config_class: type
    component: type
    summary: str


BLOCKS: dict[str, Block] = {
    block.name: block
    for block in (
        Block("mac_array", MacArrayConfig, MacArray,
              "Ternary (BitNet b1.58) MAC array and its int8 multiply-accumulate baseline"),
    )
}


def block(name: str) -> Block:
    try:
        return BLOCKS[name]
    except KeyError:
        raise ValueError(f"unknown block {name!r}; known blocks: {', '.join(sorted(BLOCKS))}") from None
