"""One entry per block: its name, config class and component. Generic code iterates over this table only."""

from __future__ import annotations

from dataclasses import dataclass

from rtl.fpmul import ExactFpMul, ExactFpMulConfig, FpDot, FpDotConfig, LMul, LMulConfig
from rtl.lut_core import LutCore, LutCoreConfig
from rtl.mac_array import MacArray, MacArrayConfig
from rtl.slt import SltConfig, SltEngine


@dataclass(frozen=True)
class Block:
    name: str
    config_class: type
    component: type
    summary: str
    #: The asic flow maps the block module by module (``synth.flows.map_to_cells(per_module=True)``): on its
    #: flattened netlist the standard-cell mapper's SAT sweeping does not finish within the flow's time limit.
    map_per_module: bool = False


BLOCKS: dict[str, Block] = {
    block.name: block
    for block in (
        Block("mac_array", MacArrayConfig, MacArray,
              "Ternary (BitNet b1.58) MAC array and its int8 multiply-accumulate baseline"),
        Block("lmul", LMulConfig, LMul, "L-Mul float multiplier (one integer addition, no mantissa product)"),
        Block("exact_fp_mul", ExactFpMulConfig, ExactFpMul,
              "Correctly rounded float multiplier with L-Mul's special-value rules (the L-Mul baseline)"),
        Block("fp_dot", FpDotConfig, FpDot,
              "Dot product of L-Mul (or exact) lanes with a wider float accumulator"),
        Block("lut_core", LutCoreConfig, LutCore,
              "LUT tensor core: per-token tables of signed activation sums indexed by weight bit-planes"),
        Block("slt", SltConfig, SltEngine,
              "SLT engine (Slim-Llama): S-LUTs in LUT or Buffer mode, zero-group skipping, output reuse",
              map_per_module=True),
    )
}


def block(name: str) -> Block:
    try:
        return BLOCKS[name]
    except KeyError:
        raise ValueError(f"unknown block {name!r}; known blocks: {', '.join(sorted(BLOCKS))}") from None
