"""The measures of a replication, computed from the engines' decisions.

Each placement measure of the table (:data:`placeplan.measures.MEASURES`) has one
rule here: which children or places it counts at a snapshot (a mask or weights)
and where each belongs (its designation, and its locality — of the school for
places, of the child otherwise). The by-designation and by-locality arrays are
both tallied from that one rule; vacancies are derived from capacity and places
taken. The rules are checked against the table at import: the outputs are exactly
the table's placement measures.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import cached_property

import numpy as np

from placeplan import measures as table
from placeplan.placement import rules
from placeplan.placement.kernel import span_counts
from placeplan.placement.problem import PlacementProblem, Placements
from placeplan.placement.schedule import SnapshotClock
from placeplan.sorted_search import searchsorted

__all__ = ["measure", "time_in_system"]


def time_in_system(
    problem: PlacementProblem, placements: Placements, start: float, end: float
) -> np.ndarray:
    """Each referred child's time in the system within ``[start, end]`` [days].

    From referral (or the start) until they leave the list or, if placed, their
    place (or the end). Little's law holds on every run as an identity: the sum of
    these equals the area under the number in the system.
    """
    leaves = np.where(
        np.isfinite(placements.started), problem.leaves_places(placements), problem.leaves_list
    )
    arrive = np.maximum(problem.children.time, start)
    return np.clip(np.minimum(leaves, end) - arrive, 0.0, None)


class _Replication:
    """What does not change between snapshots, each worked out when a rule first reads it.

    A run of a few measures (``only``) reads a few of these; the rest are never
    computed.
    """

    def __init__(self, p: PlacementProblem, placements: Placements) -> None:
        placements.check(len(p.pools))
        self.p = p
        self.placements = placements
        self.designation = p.children.designation  # of each child
        self.home = p.localities  # locality of each child
        self.offered = placements.offered
        self.started = placements.started
        self.leaves_list = p.leaves_list

    @cached_property
    def moves(self) -> np.ndarray:
        """Placed out of area (never offered a place, and out of area before leaving)."""
        ooa = self.p.exits.out_of_area
        return ~np.isfinite(self.offered) & np.isfinite(ooa) & (ooa == self.leaves_list)

    @cached_property
    def offered_pool(self) -> np.ndarray:
        """Whether each child was offered a place."""
        return self.placements.pool != rules.NO_POOL

    def _of_school(self, of_pool: np.ndarray) -> np.ndarray:
        out = np.full(len(self.p.children), -1, dtype=np.int64)
        offered = self.offered_pool
        out[offered] = of_pool[self.placements.pool[offered]]
        return out

    @cached_property
    def school_locality(self) -> np.ndarray:
        """Locality of the place offered (-1: none; never tallied)."""
        return self._of_school(self.p.pools.locality)

    @cached_property
    def school_designation(self) -> np.ndarray:
        """Designation of the place offered (-1: none; never tallied)."""
        return self._of_school(self.p.pools.designation)

    @cached_property
    def leaves_placed(self) -> np.ndarray:
        """When each child leaves the place taken up."""
        return self.p.leaves_places(self.placements)

    @cached_property
    def aged_out(self) -> np.ndarray:
        """Leaves the list (if never placed) because of age."""
        return self.p.exits.age_out <= self.leaves_list

    @cached_property
    def moves_at(self) -> np.ndarray:
        """Placed out of area at (inf: never)."""
        return np.where(self.moves, self.p.exits.out_of_area, np.inf)

    @cached_property
    def moved_until(self) -> np.ndarray:
        """Leaves the out-of-area place (-inf: never there)."""
        e = self.p.exits
        return np.where(self.moves, np.minimum(e.age_out, e.out_of_area + e.stay), -np.inf)

    @cached_property
    def own(self) -> np.ndarray:
        """Took a place up in a school of its own locality."""
        return self.offered_pool & (self.school_locality == self.home)

    @cached_property
    def occupant_designation(self) -> np.ndarray:
        """Designation of each pupil's pool at the start."""
        return self.p.pools.designation[self.p.occupants.pool]

    @cached_property
    def occupant_locality(self) -> np.ndarray:
        """Locality of each pupil's pool at the start."""
        return self.p.pools.locality[self.p.occupants.pool]

    @cached_property
    def need_until(self) -> np.ndarray:
        """When each child stops needing a place.

        Without a need account: when they leave the list, their place or out of area.
        """
        if self.p.account is not None:
            return self.p.account.child_until
        return np.where(
            np.isfinite(self.started),
            self.leaves_placed,
            np.where(self.moves, self.moved_until, self.leaves_list),
        )

    @cached_property
    def occupant_until(self) -> np.ndarray:
        """When each pupil at the start stops needing a place."""
        a = self.p.account
        return self.p.occupants.exit if a is None else a.occupant_until

    @cached_property
    def elsewhere(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Children placed elsewhere at the start: designation, locality, until."""
        a = self.p.account
        if a is None:
            empty = np.zeros(0, dtype=np.int64)
            return (empty, empty, np.zeros(0))
        return (a.elsewhere_designation, a.elsewhere_locality, a.elsewhere_until)


class _Spans:
    """What does not change between snapshots, as snapshot indices, each when first read."""

    def __init__(self, r: _Replication, c: SnapshotClock) -> None:
        self.r = r
        self.c = c

    @cached_property
    def ref(self) -> np.ndarray:
        """Referred."""
        return self.c.k(self.r.p.children.time)

    @cached_property
    def started(self) -> np.ndarray:
        """Took a place up."""
        return self.c.k(self.r.started)

    @cached_property
    def offered(self) -> np.ndarray:
        """Was offered a place."""
        return self.c.k(self.r.offered)

    @cached_property
    def moves(self) -> np.ndarray:
        """Placed out of area."""
        return self.c.k(self.r.moves_at)

    @cached_property
    def moved_until(self) -> np.ndarray:
        """Left the out-of-area place."""
        return self.c.k(self.r.moved_until)

    @cached_property
    def leaves_list(self) -> np.ndarray:
        """Leaves the list if not placed."""
        return self.c.k(self.r.leaves_list)

    @cached_property
    def leaves_placed(self) -> np.ndarray:
        """Leaves the place taken up."""
        return self.c.k(self.r.leaves_placed)

    @cached_property
    def need_until(self) -> np.ndarray:
        """Stops needing a place."""
        return self.c.k(self.r.need_until)

    @cached_property
    def waits_until(self) -> np.ndarray:
        """Stops waiting (placed, out of area, or off the list)."""
        return np.minimum(np.minimum(self.started, self.moves), self.leaves_list)

    @cached_property
    def occupant_exit(self) -> np.ndarray:
        """Pupil at the start leaves the place."""
        return self.c.k(self.r.p.occupants.exit)

    @cached_property
    def occupant_until(self) -> np.ndarray:
        """Pupil at the start stops needing a place."""
        return self.c.k(self.r.occupant_until)

    @cached_property
    def elsewhere_until(self) -> np.ndarray:
        """Placed elsewhere at the start until."""
        return self.c.k(self.r.elsewhere[2])

    @cached_property
    def long_terms(self) -> np.ndarray:
        """Has waited ``long_wait_terms`` whole terms."""
        p = self.r.p
        if p.long_wait_terms >= 1:  # whole terms waited >= L from snapshot term >= term + L + 1
            terms = np.asarray(p.snapshot_terms)
            return searchsorted(terms, p.referral_terms + p.long_wait_terms + 1, "left")
        return np.zeros(len(p.children), dtype=np.int64)

    @cached_property
    def long_weeks(self) -> np.ndarray:
        """Has waited more than ``long_wait_weeks`` weeks."""
        p = self.r.p
        days = np.floor(self.c.times)  # more than W weeks: floor(now) - floor(referral) > 7 W
        return searchsorted(days, np.floor(p.children.time) + 7 * p.long_wait_weeks, "right")


Span = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""``(from, to, designation index, locality index)``: counted at snapshots ``from <= k < to``."""

Dense = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(values [snapshot, item], designation index, locality index)``: summed at each snapshot."""

Part = Span | Dense


def _children(r: _Replication, k_from: np.ndarray, k_to: np.ndarray) -> list[Part]:
    return [(k_from, k_to, r.designation, r.home)]


def _ever(c: SnapshotClock, k_from: np.ndarray) -> np.ndarray:
    return np.full(k_from.shape, c.n)


def _always(k_to: np.ndarray) -> np.ndarray:
    return np.zeros(k_to.shape, dtype=np.int64)


def _capacity(r: _Replication, c: SnapshotClock, k: _Spans) -> list[Part]:
    pools = r.p.pools
    places = np.tile(r.p.capacity.astype(np.int64), (c.n, 1))
    for when, pool, added in r.p.openings:
        places[c.times >= when, pool] += added
    return [(places, pools.designation, pools.locality)]


def _occupied(r: _Replication, c: SnapshotClock, k: _Spans) -> list[Part]:
    return [
        (_always(k.occupant_exit), k.occupant_exit, r.occupant_designation, r.occupant_locality),
        # a place counts as its school's
        (k.offered, k.leaves_placed, r.school_designation, r.school_locality),
    ]


def _pupils(r: _Replication, c: SnapshotClock, k: _Spans) -> list[Part]:
    """Children in the council's places: at the start and still there, or taken up and not left."""
    return [
        (_always(k.occupant_exit), k.occupant_exit, r.occupant_designation, r.occupant_locality),
        (k.started, k.leaves_placed, r.designation, r.school_locality),
    ]


def _elsewhere(r: _Replication, c: SnapshotClock, k: _Spans) -> list[Part]:
    """Children needing a place who are placed outside the council's places.

    Placed elsewhere at the start; placed out of area from the list; or moved on
    from a council place (at the school's oldest age) while still needing one. A
    child placed out of area was never offered a council place, so the two spans
    of a child never overlap.
    """
    designation, locality, _ = r.elsewhere
    moved_on = np.maximum(k.started, k.leaves_placed)
    return [
        (_always(k.elsewhere_until), k.elsewhere_until, designation, locality),
        (k.moves, k.moved_until, r.designation, r.home),
        (moved_on, k.need_until, r.designation, r.home),
        (k.occupant_exit, k.occupant_until, r.occupant_designation, r.occupant_locality),
    ]


def _need(r: _Replication, c: SnapshotClock, k: _Spans) -> list[Part]:
    """Children needing a place, from when each starts and stops needing one alone."""
    designation, locality, _ = r.elsewhere
    return [
        (_always(k.occupant_until), k.occupant_until, r.occupant_designation, r.occupant_locality),
        (_always(k.elsewhere_until), k.elsewhere_until, designation, locality),
        (k.ref, k.need_until, r.designation, r.home),
    ]


def _left(k: _Spans) -> tuple[np.ndarray, np.ndarray]:
    """Off the list (not placed, not out of area) from then on, while not placed later."""
    return np.maximum(k.ref, k.leaves_list), np.minimum(k.started, k.moves)


def _aged_out(r: _Replication, c: SnapshotClock, k: _Spans) -> list[Part]:
    k_from, k_to = _left(k)
    a = r.aged_out
    return [(k_from[a], k_to[a], r.designation[a], r.home[a])]


def _own(r: _Replication, c: SnapshotClock, k: _Spans) -> list[Part]:
    o = r.own
    return [(k.started[o], _ever(c, k.started[o]), r.designation[o], r.home[o])]


def _cost(r: _Replication, c: SnapshotClock, k: _Spans) -> list[Part]:
    """Cost of each child's out-of-area place from the start to the snapshot [GBP]."""
    moved = np.flatnonzero(np.isfinite(r.moves_at))
    now = c.times[:, None]
    inside = np.minimum(r.moved_until[moved], now) - np.maximum(r.moves_at[moved], r.p.start)
    days = np.where(r.moves_at[moved] <= now, np.clip(inside, 0, None), 0.0)
    return [(r.p.out_of_area_cost / 365.25 * days, r.designation[moved], r.home[moved])]


RULES: dict[str, Callable[[_Replication, SnapshotClock, _Spans], list[Part]]] = {
    "need": _need,
    "pupils": _pupils,
    "placed_elsewhere": _elsewhere,
    "capacity": _capacity,
    "occupied": _occupied,
    "referred": lambda r, c, k: _children(r, k.ref, _ever(c, k.ref)),
    "placed": lambda r, c, k: _children(r, k.started, _ever(c, k.started)),
    "waiting": lambda r, c, k: _children(r, k.ref, k.waits_until),
    "waiting_over_3_terms": lambda r, c, k: _children(
        r, np.maximum(k.ref, k.long_terms), k.waits_until
    ),
    "waiting_over_52_weeks": lambda r, c, k: _children(
        r, np.maximum(k.ref, k.long_weeks), k.waits_until
    ),
    "left_while_waiting": lambda r, c, k: _children(r, *_left(k)),
    "aged_out_while_waiting": _aged_out,
    "placed_out_of_area": lambda r, c, k: _children(r, k.moves, _ever(c, k.moves)),
    "out_of_area": lambda r, c, k: _children(r, k.moves, k.moved_until),
    "out_of_area_cost": _cost,
    "placed_in_own_locality": _own,
}
"""What each placement measure counts: which children or places, over which snapshots."""

DERIVED: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "vacancies": lambda v: np.maximum(v["capacity"] - v["occupied"], 0),
}
"""Measures computed from others, breakdown by breakdown (places free, never below 0)."""

_PLACEMENT = [m for m in table.MEASURES if m.source == "placement"]
if {m.name for m in _PLACEMENT} != set(RULES) | set(DERIVED):  # pragma: no cover
    raise ImportError("placement.outputs: the rules do not match the table of measures")


def _tally(parts: list[Part], which: int, n: int, snaps: int, count: bool) -> np.ndarray:
    """``[snapshot, category]`` totals of the parts, by designation (0) or locality (1)."""
    total = np.zeros((snaps, n), dtype=np.int64 if count else float)
    for part in parts:
        if len(part) == 3:  # dense values
            values, *index = part
            where = index[which]
            sums = np.zeros((snaps, n))
            for j in np.unique(where):
                sums[:, j] = values[:, where == j].sum(axis=1)
            total += np.rint(sums).astype(np.int64) if count else sums
            continue
        k_from, k_to, *index = part
        total += span_counts(
            np.asarray(k_from, dtype=np.int64),
            np.asarray(k_to, dtype=np.int64),
            np.asarray(index[which], dtype=np.int64),
            snaps,
            n,
        )
    return total


_NEEDS: dict[str, tuple[str, ...]] = {"vacancies": ("capacity", "occupied")}
"""The measures each derived measure is computed from."""
if set(_NEEDS) != set(DERIVED):  # pragma: no cover
    raise ImportError("placement.outputs: say what each derived measure is computed from")


def _wanted(only: Collection[str] | None) -> set[str]:
    """The placement measures to compute for ``only`` (all if None), with what they need."""
    names = {m.name for m in _PLACEMENT}
    if only is None:
        return names
    wanted = set(only) & names
    for name in list(wanted):
        wanted.update(_NEEDS.get(name, ()))
    return wanted


def measure(
    problem: PlacementProblem, placements: Placements, only: Collection[str] | None = None
) -> dict[str, np.ndarray]:
    """The placement measures of the table at each snapshot, by designation and locality.

    Parameters
    ----------
    problem : PlacementProblem
        The replication.
    placements : Placements
        An engine's decisions.
    only : collection of str, optional
        Names of the measures wanted; every placement measure if omitted. Others are
        not computed (a derived measure brings the measures it is computed from).

    Returns
    -------
    dict of str to numpy.ndarray
        For each placement measure of :data:`placeplan.measures.MEASURES`, its
        ``[snapshot, designation]`` array under its name and, where the table says
        so, a ``[snapshot, locality]`` array under ``NAME_by_locality``: places,
        places taken and free [places]; children referred and placed since the
        start (the list at the start included), waiting, waiting longer than the
        long-wait thresholds, who left the list before a place (in all, and because
        of their age), who were placed out of area since the start and are out of
        area now [children]; and the cost of out-of-area places since the start
        [GBP]. Children referred = placed + waiting + left while waiting + placed
        out of area, at every snapshot.
    """
    p = problem
    r = _Replication(p, placements)
    c = p.schedule.clock
    k = _Spans(r, c)
    wanted = _wanted(only)
    out: dict[str, np.ndarray] = {}
    by_designation: dict[str, np.ndarray] = {}
    by_locality: dict[str, np.ndarray] = {}
    for m in _PLACEMENT:
        if m.name not in RULES or m.name not in wanted:
            continue
        parts = RULES[m.name](r, c, k)
        count = m.kind == "count"
        by_designation[m.name] = _tally(parts, 0, p.n_designations, c.n, count)
        if m.by_locality and count and p.n_localities == 1:  # one locality: the total
            by_locality[m.name] = by_designation[m.name].sum(axis=1, keepdims=True)
        elif m.by_locality:
            by_locality[m.name] = _tally(parts, 1, p.n_localities, c.n, count)
    for name, rule in DERIVED.items():
        if name not in wanted:
            continue
        by_designation[name] = rule(by_designation)
        if table.get(name).by_locality:
            by_locality[name] = rule(by_locality)
    for m in _PLACEMENT:
        if m.name not in wanted:
            continue
        out[m.name] = by_designation[m.name]
        if m.by_locality:
            out[f"{m.name}_by_locality"] = by_locality[m.name]
    return out
