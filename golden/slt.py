"""Golden model of the SLT engine (spec: ``slt.md``; Slim-Llama, Kim et al., ISSCC 2025, paper 23.9).

Everything is integer arithmetic on plain arrays and lists. Four steps, each usable alone:

1. :func:`compress` cuts every weight row into groups of ``g`` and keeps, per group that has a non-zero weight,
   its mode (LUT when all ``g`` weights are +-1, or all +-2, Buffer otherwise: the "sparsity-aware workload
   allocation"), its non-zero mask, its signs and its magnitude-2 bits (only cluster deltas have them).
   All-zero groups are dropped. :func:`decompress` inverts it exactly.
2. :func:`cluster` picks center rows and assigns member rows to them, so that a member is computed as its
   center's output plus the sparse delta ``W_i - W_center`` (values in -2..2).
3. :func:`schedule` turns the compressed rows into the engine's weight stream: blocks of ``rows`` output rows,
   per block and activation tile the beats that feed every row slot and lane one group a beat.
4. :func:`run` executes a schedule on activation vectors the way the RTL does, cycle for cycle, and returns
   the outputs and the engine's performance counters. The tests check the outputs against ``W @ x``.

Engine model (this project's reconstruction; the block docstring of ``rtl.slt`` says what follows the paper):
a tile of ``k`` activations is held as ``k / g`` S-LUTs of ``2^g`` entries: the ``2^(g-1)`` sign-symmetric
table entries (``golden.lut.half_table``) plus the ``g`` raw activations. A LUT-mode group reads one table
entry (the mirrored half negated); a Buffer-mode group reads its non-zero weights' raw activations,
``read_ports`` a cycle, so it takes ``ceil(nnz / read_ports)`` passes. Row slot ``r`` and lane ``l`` of a beat
serve the groups ``l, l + lanes, l + 2 lanes, ...`` of the tile (bank ``l``), one group a beat.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .intmath import wrap_signed
from .lut import entry_bits, half_table
from .ternary import acc_bits_for

IDLE, LUT, BUFFER = 0, 1, 2
PLAIN, CENTER, MEMBER = 0, 1, 2
WEIGHT_KINDS = ("binary", "ternary")


# --- parameters ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Params:
    """The engine parameters the model needs (the RTL config has the same names)."""

    k: int = 24
    g: int = 3
    rows: int = 4
    lanes: int = 1
    read_ports: int = 2
    act_bits: int = 8
    weight_kind: str = "ternary"
    n_centers: int = 0
    acc_bits: int | None = None
    max_k: int = 4096

    def __post_init__(self) -> None:
        if self.k % self.g:
            raise ValueError(f"k={self.k} must be a multiple of g={self.g}")
        if self.weight_kind not in WEIGHT_KINDS:
            raise ValueError(f"weight_kind must be one of {WEIGHT_KINDS}, got {self.weight_kind!r}")

    @property
    def groups(self) -> int:
        """S-LUTs (groups of ``g`` activations) per tile."""
        return self.k // self.g

    @property
    def bank_groups(self) -> int:
        """Groups each lane serves per tile: the most beats one row needs for a tile."""
        return -(-self.groups // self.lanes)

    @property
    def group_bits(self) -> int:
        """Width of an item's bank index on the stream."""
        return max(self.bank_groups - 1, 1).bit_length()

    @property
    def half_entries(self) -> int:
        return 1 << (self.g - 1)

    @property
    def entries(self) -> int:
        """Entries an S-LUT holds: the half table and the raw activations."""
        return self.half_entries + self.g

    @property
    def entry_bits(self) -> int:
        return entry_bits(self.act_bits, self.g)

    @property
    def acc_width(self) -> int:
        return acc_bits_for(self.max_k, self.act_bits) if self.acc_bits is None else self.acc_bits

    @property
    def peak_macs(self) -> int:
        """Weights a beat can apply: every slot a full group."""
        return self.rows * self.lanes * self.g


# --- compressed format --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """One non-zero group of a row: its index along K (in groups), mode and bit fields (bit ``t`` is weight
    ``t`` of the group): ``mask`` non-zero, ``sign`` negative, ``mag`` magnitude 2."""

    index: int
    mode: int
    mask: int
    sign: int
    mag: int = 0

    @property
    def nnz(self) -> int:
        return self.mask.bit_count()

    def values(self, g: int) -> np.ndarray:
        bit = lambda f, t: (f >> t) & 1  # noqa: E731
        return np.array([bit(self.mask, t) * (1 + bit(self.mag, t)) * (-1 if bit(self.sign, t) else 1)
                         for t in range(g)], dtype=np.int64)


def _check_weights(w: np.ndarray, g: int | None, lo: int = -2, hi: int = 2) -> np.ndarray:
    w = np.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"weights must be a 2-D (rows x K) array, got shape {w.shape}")
    if g is not None and w.shape[1] % g:
        raise ValueError(f"K={w.shape[1]} must be a multiple of g={g} (pad the weights with zeros)")
    if w.size and (w.min() < lo or w.max() > hi):
        raise ValueError(f"weights must be in {lo}..{hi}, got values in {w.min()}..{w.max()}")
    return w.astype(np.int64)


def _lut_mode(grouped: np.ndarray) -> np.ndarray:
    """Whether each group of ``g`` weights (last axis) is in LUT mode: all non-zero and of one magnitude."""
    mags = np.abs(grouped)
    return (mags.min(axis=-1) > 0) & (mags.min(axis=-1) == mags.max(axis=-1))


def compress_row(w_row: np.ndarray, g: int) -> list[Group]:
    """The non-zero groups of one row (values in -2..2, length a multiple of ``g``)."""
    grouped = np.asarray(w_row, dtype=np.int64).reshape(-1, g)
    bits = 1 << np.arange(g)
    mask, sign, mag = ((grouped != 0) @ bits, (grouped < 0) @ bits, (np.abs(grouped) == 2) @ bits)
    lut = _lut_mode(grouped)
    return [Group(int(i), LUT if lut[i] else BUFFER, int(mask[i]), int(sign[i]), int(mag[i]))
            for i in np.flatnonzero(mask)]


def compress(w: np.ndarray, g: int = 3) -> list[list[Group]]:
    """Each row's non-zero groups; a group is in LUT mode iff its ``g`` weights are all +-1 or all +-2 (a
    cluster delta; the table read is doubled)."""
    w = _check_weights(w, g)
    return [compress_row(row, g) for row in w]


def decompress(rows: list[list[Group]], k_total: int, g: int = 3) -> np.ndarray:
    """The weight matrix a compressed form stands for (``k_total`` columns)."""
    w = np.zeros((len(rows), k_total), dtype=np.int64)
    for r, groups in enumerate(rows):
        for grp in groups:
            w[r, grp.index * g:(grp.index + 1) * g] = grp.values(g)
    return w


def group_work(w: np.ndarray, g: int) -> np.ndarray:
    """Non-zero groups per row: the number of S-LUT visits a row costs."""
    w = np.asarray(w)
    return (w.reshape(w.shape[0], -1, g) != 0).any(axis=2).sum(axis=1)


# --- output reuse -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Clustering:
    """``centers[c]`` is the row index of center ``c``; ``center_of[i]`` the center id of member row ``i``
    (-1 for centers and plain rows)."""

    centers: tuple[int, ...]
    center_of: np.ndarray

    def role(self, i: int) -> int:
        if i in self.centers:
            return CENTER
        return MEMBER if self.center_of[i] >= 0 else PLAIN

    def effective(self, w: np.ndarray) -> np.ndarray:
        """The rows the engine computes: members replaced by their deltas ``W_i - W_center`` (in -2..2)."""
        w = np.asarray(w, dtype=np.int64).copy()
        for i, c in enumerate(self.center_of):
            if c >= 0:
                w[i] -= w[self.centers[c]]
        return w


def no_clustering(m: int) -> Clustering:
    return Clustering((), np.full(m, -1, dtype=np.int64))


def _passes(grouped: np.ndarray, read_ports: int) -> np.ndarray:
    """Cycles each group of ``g`` weights (last axis) costs a slot: 0 when all zero, 1 in LUT mode,
    ``ceil(nnz / read_ports)`` in Buffer mode."""
    nnz = (grouped != 0).sum(axis=-1)
    return np.where(nnz == 0, 0, np.where(_lut_mode(grouped), 1, -(-nnz // read_ports)))


def row_cycles(w: np.ndarray, g: int, read_ports: int) -> np.ndarray:
    """Slot cycles per row: the sum of its groups' passes."""
    w = np.asarray(w, dtype=np.int64)
    return _passes(w.reshape(w.shape[0], -1, g), read_ports).sum(axis=1)


def _delta_work(w: np.ndarray, g: int, read_ports: int, chunk: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """``D[i, c]``: slot cycles of the delta row ``W_i - W_c`` for every pair of rows, and ``P[i, c]`` the most
    passes one of its groups needs."""
    grouped = np.asarray(w, dtype=np.int8).reshape(w.shape[0], -1, g)
    work = np.empty((w.shape[0], w.shape[0]), dtype=np.int64)
    passes = np.empty_like(work)
    for s in range(0, w.shape[0], chunk):
        p = _passes(grouped[s:s + chunk, None] - grouped[None, :], read_ports)
        work[s:s + chunk], passes[s:s + chunk] = p.sum(axis=2), p.max(axis=2, initial=0)
    return work, passes


def cluster(w: np.ndarray, n_centers: int, g: int = 3, read_ports: int = 2,
            single_pass: bool = True) -> Clustering:
    """Choose up to ``n_centers`` center rows greedily (facility location over the work of the delta rows).

    A row's work is its slot cycles (:func:`row_cycles`: a LUT group 1, a Buffer group ``ceil(nnz /
    read_ports)``); as a member of center ``c`` it costs the cycles of ``W_i - W_c`` (whose groups of mixed
    magnitudes need Buffer mode) plus the center output's addition. With ``single_pass`` (the default) a row
    whose delta has a group that needs more than one pass is never a member: rows run in lock step, so one
    such group holds the beat of its whole block for another cycle. Each step takes the row whose
    choice as a center saves the most work over all rows; the search stops when no row saves any. Rows are
    then assigned to their cheapest center, and become members only where that is cheaper than computing them
    plainly. Centers are rows of ``W``, so their outputs are outputs of the GEMV too.
    """
    w = _check_weights(w, g, -1, 1)
    m = w.shape[0]
    if n_centers < 0:
        raise ValueError(f"n_centers must be >= 0, got {n_centers}")
    if n_centers == 0 or m < 2:
        return no_clustering(m)
    own = row_cycles(w, g, read_ports)
    work, passes = _delta_work(w, g, read_ports)
    cost = work + 1
    if single_pass:
        cost[passes > 1] = own.max(initial=0) + len(own) + 1  # never cheaper than computing the row plainly
    best = own.copy()
    centers: list[int] = []
    for _ in range(n_centers):
        gains = np.maximum(best[:, None] - cost, 0).sum(axis=0)
        gains[centers] = -1
        c = int(np.argmax(gains))
        if gains[c] <= 0:
            break
        centers.append(c)
        best = np.minimum(best, cost[:, c])
        best[centers] = 0
    if not centers:
        return no_clustering(m)
    sub = cost[:, centers]
    choice = np.argmin(sub, axis=1)
    member = sub[np.arange(m), choice] < own
    member[centers] = False
    return Clustering(tuple(centers), np.where(member, choice, -1).astype(np.int64))


# --- the weight stream --------------------------------------------------------------------------------------

@dataclass
class Beat:
    """One weight beat: ``items[r][l]`` the group (bank index in ``index``) of row slot ``r``, lane ``l``, or
    None; ``count`` the beats of this block's tile pass (the same on each); ``end`` on its last beat."""

    items: list[list[Group | None]]
    count: int
    end: bool

    def passes(self, read_ports: int) -> int:
        """Cycles the beat takes: the most passes any of its Buffer groups needs."""
        need = [1] + [-(-it.nnz // read_ports) for row in self.items for it in row
                      if it is not None and it.mode == BUFFER]
        return max(need)


@dataclass
class Block:
    """``rows`` output rows computed together: ``row_ids[r]`` is the row of ``W`` in slot ``r`` (None: padding),
    ``roles``/``centers`` its role and center id, ``tiles[t]`` the beats of activation tile ``t``."""

    row_ids: list[int | None]
    roles: list[int]
    centers: list[int]
    tiles: list[list[Beat]]


@dataclass
class Program:
    params: Params
    m: int
    k_total: int
    blocks: list[Block]
    clustering: Clustering
    effective: np.ndarray  # the padded rows the stream encodes (members as deltas)

    @property
    def tiles(self) -> int:
        return self.k_total // self.params.k


def pad_k(a: np.ndarray, k: int) -> np.ndarray:
    """``a`` (weights ``m x K`` or activations ``T x K``) with zero columns up to a multiple of the tile
    length ``k``."""
    a = np.asarray(a, dtype=np.int64)
    pad = (-a.shape[-1]) % k
    return np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, pad)]) if pad else a


def _row_order(work: np.ndarray, clustering: Clustering, rows: int, balance: bool) -> list[int | None]:
    """Centers first, in blocks of their own (a member must come in a later block than its center), then the
    other rows; ``balance`` sorts each part by work so that rows of a block finish together."""
    m = len(work)
    centers = list(clustering.centers)
    rest = [i for i in range(m) if i not in centers]
    if balance:
        centers.sort(key=lambda i: -work[i])
        rest.sort(key=lambda i: -work[i])
    # Fill the centers' last block with plain rows (never members) or padding.
    free = (-len(centers)) % rows
    plain = [i for i in rest if clustering.center_of[i] < 0]
    fill = plain[:free]
    order: list[int | None] = centers + fill + [None] * (free - len(fill)) if centers else []
    order += [i for i in rest if i not in fill]
    order += [None] * ((-len(order)) % rows)
    return order


def item_bits(grp: Group | None, group_bits: int, g: int) -> int:
    """An item's fields as the stream carries them in one slot (``mode``, bank ``group``, ``mask``, ``sign``,
    ``mag``; an idle slot is all zeros): the bits whose transitions index reordering counts."""
    if grp is None:
        return 0
    return grp.mode | (grp.index << 2) | ((grp.mask | grp.sign << g | grp.mag << 2 * g) << (2 + group_bits))


def _reordered(queue: list[Group], last: int, group_bits: int, g: int) -> list[Group]:
    """``queue`` in the order a greedy walk takes from ``last``: each next item the one whose fields differ from
    the previous item's in the fewest bits (ties: along K)."""
    left, out = list(queue), []
    while left:
        best = min(range(len(left)), key=lambda j: ((item_bits(left[j], group_bits, g) ^ last).bit_count(), j))
        out.append(left.pop(best))
        last = item_bits(out[-1], group_bits, g)
    return out


def schedule(w: np.ndarray, params: Params, clustering: Clustering | None = None,
             balance: bool = True, reorder: bool = False) -> Program:
    """The weight stream of ``y = W x`` for the engine: blocks of ``rows`` rows, per block each tile's beats.

    ``W`` (``m x K``, ternary, or binary when ``params.weight_kind`` is binary) is padded with zero columns to
    a multiple of ``k``; binary rows are padded with +1 instead, so that they stay dense (the padded
    activations are 0). Members of ``clustering`` are scheduled as their deltas.

    ``reorder`` is index reordering (Slim-Llama's bit-transition trick): the items of a row's pass through a
    lane bank are put in the order that changes the fewest bits of the slot's stream fields from one beat to
    the next (a greedy walk from the slot's previous item; the sums do not depend on the order). Without it
    items go along K. Reordering can move a two-pass Buffer group to another beat and so change the cycles.
    """
    p = params
    binary = p.weight_kind == "binary"
    w = np.asarray(w, dtype=np.int64)
    if binary and w.size and np.any(np.abs(w) != 1):
        raise ValueError("binary weights must all be -1 or +1")
    _check_weights(w, None, -1, 1)
    m, k_orig = w.shape
    w = pad_k(w, p.k)
    if binary and w.shape[1] > k_orig:
        w[:, k_orig:] = 1
    clustering = clustering or no_clustering(m)
    if len(clustering.centers) > p.n_centers:
        raise ValueError(f"{len(clustering.centers)} centers, the engine holds n_centers={p.n_centers}")
    eff = clustering.effective(w)
    compressed = compress(eff, p.g)
    work = group_work(eff, p.g)
    order = _row_order(work, clustering, p.rows, balance)
    # Each row's groups by (tile, lane bank), their index within the bank, in order along K.
    banked: list[dict[tuple[int, int], list[Group]]] = []
    for groups in compressed:
        buckets: dict[tuple[int, int], list[Group]] = {}
        for grp in groups:
            t, local = divmod(grp.index, p.groups)
            buckets.setdefault((t, local % p.lanes), []).append(replace(grp, index=local // p.lanes))
        banked.append(buckets)
    blocks = []
    gbits = p.group_bits
    last = [[0] * p.lanes for _ in range(p.rows)]  # each slot's previous item (stream fields) while reordering
    for b in range(0, len(order), p.rows):
        ids = order[b:b + p.rows]
        roles = [PLAIN if i is None else clustering.role(i) for i in ids]
        cids = [0 if i is None else (clustering.centers.index(i) if roles[r] == CENTER else
                                     max(int(clustering.center_of[i]), 0)) for r, i in enumerate(ids)]
        tiles = []
        for t in range(w.shape[1] // p.k):
            banks = [[banked[i].get((t, lane), []) if i is not None else [] for lane in range(p.lanes)]
                     for i in ids]
            count = max([1] + [len(q) for row in banks for q in row])
            if reorder:
                banks = [[_reordered(q, last[r][lane], gbits, p.g) for lane, q in enumerate(row)]
                         for r, row in enumerate(banks)]
            beats = [Beat([[q[j] if j < len(q) else None for q in row] for row in banks], count, j == count - 1)
                     for j in range(count)]
            last = [[item_bits(beats[-1].items[r][lane], gbits, p.g) for lane in range(p.lanes)]
                    for r in range(p.rows)]
            tiles.append(beats)
        blocks.append(Block(ids, roles, cids, tiles))
    return Program(p, m, w.shape[1], blocks, clustering, eff)


# --- the engine ---------------------------------------------------------------------------------------------

@dataclass
class Counters:
    """What the RTL counts (its ``perf`` outputs) and the cycles a stall-free run takes.

    ``active_cycles``: cycles the S-LUT array reads a beat (each beat's passes); ``table_builds``: activation
    tiles loaded; ``table_reads``: S-LUT entries read, an entry read by several slots in the same cycle counted
    once; ``additions``: terms added into the row accumulators (one per LUT read or Buffer operand) plus one
    per member output (its center's output); ``skipped``: group slots of a block's tile pass that no beat
    visits (``rows x k / g`` per tile pass, less the groups visited; padding rows count as skipped);
    ``reused``: member outputs (each reuses its center's output); ``weight_beats``: beats on the weight
    stream; ``cycles``: from accepting the first activation beat to the cycle the last output is valid, with
    no stalls.
    """

    active_cycles: int = 0
    table_builds: int = 0
    table_reads: int = 0
    additions: int = 0
    skipped: int = 0
    reused: int = 0
    weight_beats: int = 0
    cycles: int = 0
    lut_groups: int = 0
    buffer_groups: int = 0

    #: The counters the RTL outputs, in its ``perf`` order.
    RTL = ("active_cycles", "table_builds", "table_reads", "additions", "skipped", "reused")


#: Cycles from a block's last beat leaving the S-LUT array to its output beat being valid.
DRAIN_CYCLES = 2


def _buffer_positions(grp: Group, pass_index: int, read_ports: int) -> list[int]:
    """The weights a Buffer group reads in a pass: its non-zero positions in ascending order, ``read_ports``
    at a time."""
    pos = [t for t in range(grp.mask.bit_length()) if (grp.mask >> t) & 1]
    return pos[pass_index * read_ports:(pass_index + 1) * read_ports]


def lut_entry(grp: Group, g: int) -> tuple[int, bool]:
    """The stored half-table entry a LUT group reads and whether the read is negated: index bit ``t`` is 1
    for a +1 weight; a set top bit reads ``-T[~index]``."""
    index = ~grp.sign & ((1 << g) - 1)
    top = index >> (g - 1)
    return ((~index if top else index) & ((1 << (g - 1)) - 1)), bool(top)


def run(program: Program, x: np.ndarray) -> tuple[np.ndarray, Counters]:
    """``y = W x`` for each activation vector (row of ``x``, ``T x K``) as the engine computes it, and the
    counters of the whole run. Outputs wrap to ``acc_bits`` like the RTL's accumulators."""
    p = program.params
    x = pad_k(np.atleast_2d(x), p.k)
    if x.shape[1] != program.k_total:
        raise ValueError(f"activations have K={x.shape[1]} (padded), the program expects {program.k_total}")
    lim = 1 << (p.act_bits - 1)
    if x.size and (x.min() < -lim or x.max() >= lim):
        raise ValueError(f"activations must be signed {p.act_bits}-bit integers")
    bits = p.acc_width
    y = np.zeros((x.shape[0], program.m), dtype=np.int64)
    cnt = Counters()
    store = np.zeros(max(p.n_centers, 1), dtype=np.int64)
    for tok, xv in enumerate(x):
        for block in program.blocks:
            acc = np.zeros(p.rows, dtype=np.int64)
            for t, beats in enumerate(block.tiles):
                xt = xv[t * p.k:(t + 1) * p.k].reshape(p.groups, p.g)
                tables = half_table(xt)
                cnt.table_builds += 1
                visited = 0
                for beat in beats:
                    cnt.weight_beats += 1
                    for pi in range(beat.passes(p.read_ports)):
                        cnt.active_cycles += 1
                        reads: set[tuple[int, int]] = set()
                        for r, row in enumerate(beat.items):
                            for lane, grp in enumerate(row):
                                if grp is None:
                                    continue
                                gi = grp.index * p.lanes + lane
                                if grp.mode == LUT and pi == 0:
                                    entry, neg = lut_entry(grp, p.g)
                                    reads.add((gi, entry))
                                    v = tables[gi, entry] << (grp.mag & 1)  # all +-2: the doubled read
                                    acc[r] += -v if neg else v
                                    cnt.additions += 1
                                elif grp.mode == BUFFER:
                                    for pos in _buffer_positions(grp, pi, p.read_ports):
                                        reads.add((gi, p.half_entries + pos))
                                        v = xt[gi, pos] << ((grp.mag >> pos) & 1)
                                        acc[r] += -v if (grp.sign >> pos) & 1 else v
                                        cnt.additions += 1
                        cnt.table_reads += len(reads)
                    for row in beat.items:
                        for grp in row:
                            if grp is not None:
                                visited += 1
                                cnt.lut_groups += grp.mode == LUT
                                cnt.buffer_groups += grp.mode == BUFFER
                    acc = wrap_signed(acc, bits)
                cnt.skipped += p.rows * p.groups - visited
            for r, i in enumerate(block.row_ids):
                out = int(acc[r])
                if block.roles[r] == MEMBER:
                    out = int(wrap_signed(out + store[block.centers[r]], bits))
                    cnt.additions += 1
                    cnt.reused += 1
                elif block.roles[r] == CENTER:
                    store[block.centers[r]] = out
                if i is not None:
                    y[tok, i] = out
    cnt.cycles = 1 + cnt.active_cycles + DRAIN_CYCLES if program.blocks and x.shape[0] else 0
    return y, cnt


def gemv(w: np.ndarray, x: np.ndarray, params: Params, n_centers: int | None = None,
         balance: bool = True, reorder: bool = False) -> tuple[np.ndarray, Counters, Program]:
    """Cluster (``n_centers``, default ``params.n_centers``), schedule (``reorder``: index reordering) and run
    ``y = W x``."""
    n = params.n_centers if n_centers is None else n_centers
    w = np.asarray(w, dtype=np.int64)
    clustering = cluster(pad_k(w, params.k), n, params.g, params.read_ports) if n else None
    program = schedule(w, params, clustering, balance, reorder)
    y, cnt = run(program, x)
    return y, cnt, program


# --- the ternary MAC array on the same GEMV -----------------------------------------------------------------

@dataclass(frozen=True)
class MacGemv:
    """The ternary MAC array's weight-streaming GEMV (``rows x cols`` weights a beat, one beat a cycle):
    ``cycles`` beats, ``additions`` the non-zero MACs (a zero weight's PE is isolated), ``weight_writes`` the
    weight registers loaded (one per weight)."""

    cycles: int
    additions: int
    weight_writes: int


def mac_gemv(w: np.ndarray, tokens: int, rows: int, cols: int) -> MacGemv:
    w = np.asarray(w)
    m, k = w.shape
    beats = -(-k // rows) * -(-m // cols)
    return MacGemv(tokens * beats, tokens * int(np.count_nonzero(w)), tokens * beats * rows * cols)


# --- energy proxy -------------------------------------------------------------------------------------------

#: Unit weights of the energy proxy, relative to one accumulator addition (stated in the README): a read of a
#: small register-file entry costs about half an addition, writing an entry or a weight register one addition.
ENERGY_WEIGHTS = {"addition": 1.0, "read": 0.5, "write": 1.0}


def table_build_additions(g: int) -> int:
    """Adders that build one half table the way ``rtl.common.table.half_table`` does (pairwise sums of the two
    halves' tables, recursively; negations are free)."""
    def full(n: int) -> int:
        return 0 if n == 1 else full(n // 2) + full(n - n // 2) + (1 << n)

    def half(n: int) -> int:
        return 0 if n == 1 else full(n // 2) + half(n - n // 2) + (1 << (n - 1))

    return half(g)


def slt_events(cnt: Counters, params: Params) -> dict[str, int]:
    """The events the proxy prices: additions (datapath and table builds), S-LUT reads, and register writes
    (S-LUT entries written per build, one accumulator write per active cycle and row, one item per slot and
    weight beat)."""
    return {"addition": cnt.additions + cnt.table_builds * params.groups * table_build_additions(params.g),
            "read": cnt.table_reads,
            "write": (cnt.table_builds * params.groups * params.entries + cnt.active_cycles * params.rows
                      + cnt.weight_beats * params.rows * params.lanes)}


def mac_events(mac: MacGemv, rows: int, cols: int) -> dict[str, int]:
    """The MAC array's events: its non-zero MACs, its weight register writes and one accumulator write per
    column and beat."""
    return {"addition": mac.additions, "read": 0, "write": mac.weight_writes + mac.cycles * cols}


def proxy_energy(events: dict[str, int]) -> float:
    """The events under :data:`ENERGY_WEIGHTS`."""
    return sum(ENERGY_WEIGHTS[name] * count for name, count in events.items())


def slt_energy(cnt: Counters, params: Params) -> float:
    return proxy_energy(slt_events(cnt, params))


def mac_energy(mac: MacGemv, rows: int, cols: int) -> float:
    return proxy_energy(mac_events(mac, rows, cols))


def random_ternary(rng: np.random.Generator, m: int, k: int, sparsity: float) -> np.ndarray:
    """Ternary weights with a fraction ``sparsity`` of zeros (exactly, rounded) and random signs."""
    n = m * k
    zeros = int(round(sparsity * n))
    flat = rng.choice([-1, 1], size=n)
    flat[rng.permutation(n)[:zeros]] = 0
    return flat.reshape(m, k)


def correlated_ternary(rng: np.random.Generator, m: int, k: int, sparsity: float, prototypes: int,
                       flip: float) -> np.ndarray:
    """Rows drawn around ``prototypes`` random rows, each weight re-drawn with probability ``flip``: weights
    with the structure output reuse exploits."""
    protos = random_ternary(rng, prototypes, k, sparsity)
    w = protos[rng.integers(0, prototypes, size=m)]
    redraw = rng.random((m, k)) < flip
    return np.where(redraw, random_ternary(rng, m, k, sparsity), w)

