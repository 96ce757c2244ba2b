"""The liberty data the energy model needs (spec ``energy.md``): per cell its area, leakage, pin capacitances,
``internal_power`` tables and output slew tables; and, for machines without a liberty, a stand-in library of
Yosys' generic gates with stated relative energies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .flows import nand2_weight

#: Input slew (ns) assumed where none is known: a driver's own input, an ideal clock.
NOMINAL_SLEW_NS = 0.1


class Table:
    """One liberty lookup table: ``values`` over ``load`` (pF) and ``slew`` (ns) axes (either may be absent),
    interpolated bilinearly and extrapolated linearly, as static timing tools do."""

    def __init__(self, load: np.ndarray | None, slew: np.ndarray | None, values: np.ndarray,
                 slew_first: bool = False) -> None:
        self.load, self.slew = load, slew
        n_load = len(load) if load is not None else 1
        n_slew = len(slew) if slew is not None else 1
        grid = values.reshape((n_slew, n_load) if slew_first else (n_load, n_slew))
        self.values = grid.T if slew_first else grid  # indexed [load, slew]

    def __call__(self, load: float = 0.0, slew: float = NOMINAL_SLEW_NS) -> float:
        def weights(axis: np.ndarray | None, x: float) -> tuple[int, int, float]:
            if axis is None or len(axis) == 1:
                return 0, 0, 0.0
            i = int(np.clip(np.searchsorted(axis, x) - 1, 0, len(axis) - 2))
            return i, i + 1, (x - axis[i]) / (axis[i + 1] - axis[i])

        i0, i1, u = weights(self.load, load)
        j0, j1, v = weights(self.slew, slew)
        t = self.values
        return float((1 - u) * (1 - v) * t[i0, j0] + u * (1 - v) * t[i1, j0] + (1 - u) * v * t[i0, j1]
                     + u * v * t[i1, j1])


@dataclass
class Pin:
    direction: str
    capacitance: float = 0.0
    #: (related pin, rise, fall) energy tables: of the pin's own transitions (input pins; no related pin), or of
    #: the output's transitions caused by the related pin (outputs)
    power: list[tuple[str | None, Table, Table]] = field(default_factory=list)
    #: (rise, fall) output slew tables, one pair per timing arc (outputs)
    transitions: list[tuple[Table, Table]] = field(default_factory=list)
    clock: bool = False


@dataclass
class Cell:
    name: str
    area: float
    leakage_nw: float
    pins: dict[str, Pin]
    sequential: bool


@dataclass
class Library:
    path: Path
    voltage: float
    cells: dict[str, Cell]


_VARIABLES = {"total_output_net_capacitance": "load", "input_transition_time": "slew",
              "input_net_transition": "slew"}


def _table(group: Any, templates: dict[str, list[str]]) -> Table:
    """A table group (``rise_power``, ``cell_rise``, ...), its axes named by its template's variables."""
    variables = templates.get(group.args[0] if group.args else "", [])
    axes: dict[str, np.ndarray] = {}
    for i, var in enumerate(variables, start=1):
        if group.get(f"index_{i}") is not None and var in _VARIABLES:
            axes[_VARIABLES[var]] = np.asarray(group.get_array(f"index_{i}"), dtype=float).ravel()
    slew_first = bool(variables) and _VARIABLES.get(variables[0]) == "slew" and "load" in axes
    return Table(axes.get("load"), axes.get("slew"), np.asarray(group.get_array("values"), dtype=float),
                 slew_first)


@cache
def read_liberty(path: Path) -> Library:
    """The cells of a liberty file: pin capacitances, internal power and output slew tables, leakage."""
    from liberty.parser import parse_liberty

    lib = parse_liberty(path.read_text())
    templates = {}
    for kind in ("lu_table_template", "power_lut_template"):
        for tpl in lib.get_groups(kind):
            templates[str(tpl.args[0])] = [str(tpl[f"variable_{i}"]) for i in (1, 2, 3)
                                          if tpl.get(f"variable_{i}") is not None]
    voltage = float(lib.get("nom_voltage") or 1.8)
    cells = {}
    for group in lib.get_groups("cell"):
        name = str(group.args[0]).strip('"')
        pins = {}
        for pin_group in group.get_groups("pin"):
            pin = Pin(str(pin_group["direction"]), float(pin_group.get("capacitance") or 0.0),
                      clock=str(pin_group.get("clock") or "false") == "true")
            for power in pin_group.get_groups("internal_power"):
                rise, fall = power.get_groups("rise_power"), power.get_groups("fall_power")
                if rise and fall:
                    related = power.get("related_pin")
                    pin.power.append((str(related).strip('"') if related is not None else None,
                                      _table(rise[0], templates), _table(fall[0], templates)))
            for timing in pin_group.get_groups("timing"):
                rise, fall = timing.get_groups("rise_transition"), timing.get_groups("fall_transition")
                if rise and fall:
                    pin.transitions.append((_table(rise[0], templates), _table(fall[0], templates)))
            for pin_name in pin_group.args:
                pins[str(pin_name).strip('"')] = pin
        cells[name] = Cell(name, float(group.get("area") or 0.0), float(group.get("cell_leakage_power") or 0.0),
                           pins, bool(group.get_groups("ff") or group.get_groups("latch")))
    return Library(path, voltage, cells)


#: Relative energies of the generic gates (no liberty), in units of one NAND2 output transition with its
#: own input pin as load: a gate's output transition costs its NAND2-equivalent weight (``synth.flows``), each
#: driven pin adds :data:`GENERIC_PIN_LOAD`, and a flip-flop's clock pin costs :data:`GENERIC_CLOCK_PIN` per
#: clock transition. Read off the OSU 0.18 um liberty once (a NAND2X1 output transition into one NAND2 input,
#: internal plus switching, ~0.045 pJ; a DFFPOSX1 clock pin ~0.12 pJ a cycle, 2.7 of those) and kept fixed, so
#: that the figures are relative, not joules.
GENERIC_PIN_LOAD = 0.5
GENERIC_CLOCK_PIN = 1.35


def generic_library(netlist_json: Path) -> Library:
    """A :class:`Library` of the generic gates and flip-flops that ``netlist_json`` uses, with the relative
    energies above (voltage 1, so that ``1/2 C V^2`` per transition is ``C / 2``)."""
    def const(value: float) -> Table:
        return Table(None, None, np.array([[value]]))

    cells = {}
    for module in json.loads(netlist_json.read_text())["modules"].values():
        for cell in module["cells"].values():
            ctype = cell["type"]
            if ctype in cells:
                continue
            sequential = "DFF" in ctype or "DLATCH" in ctype
            pins = {}
            for pin in cell["connections"]:
                if pin in ("Y", "Q"):
                    weight = nand2_weight(ctype) if not sequential else 1.0
                    pins[pin] = Pin("output", power=[(None, const(weight / 2), const(weight / 2))])
                elif pin == "C" and sequential:
                    pins[pin] = Pin("input", 2 * GENERIC_PIN_LOAD, clock=True,
                                    power=[(None, const(GENERIC_CLOCK_PIN), const(GENERIC_CLOCK_PIN))])
                else:
                    pins[pin] = Pin("input", 2 * GENERIC_PIN_LOAD)
            cells[ctype] = Cell(ctype, nand2_weight(ctype), 0.0, pins, sequential)
    return Library(netlist_json, 1.0, cells)
