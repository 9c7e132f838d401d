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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from placeplan import measures as table
from placeplan.placement import rules
from placeplan.placement.problem import PlacementProblem, Placements

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


@dataclass(frozen=True)
class _Replication:
    """What does not change between snapshots."""

    p: PlacementProblem
    designation: np.ndarray  # of each child
    home: np.ndarray  # locality of each child
    offered: np.ndarray
    started: np.ndarray
    leaves_placed: np.ndarray
    leaves_list: np.ndarray
    aged_out: np.ndarray  # leaves the list (if never placed) because of age
    moves_at: np.ndarray  # placed out of area at (inf: never)
    moved_until: np.ndarray  # leaves the out-of-area place (-inf: never there)
    own: np.ndarray  # took a place up in a school of its own locality
    school_locality: np.ndarray  # of the place offered (-1: none; never tallied)
    school_designation: np.ndarray  # of the place offered (-1: none; never tallied)
    occupant_designation: np.ndarray  # of the occupant's pool
    occupant_locality: np.ndarray
    need_until: np.ndarray  # when each child stops needing a place
    occupant_until: np.ndarray  # when each pupil at the start stops needing a place
    elsewhere: tuple[np.ndarray, np.ndarray, np.ndarray]  # designation, locality, until


@dataclass(frozen=True)
class _Snapshot:
    """What holds of every child and place at one snapshot."""

    now: float
    term: int
    places: np.ndarray  # by pool
    referred: np.ndarray
    placed: np.ndarray
    moved: np.ndarray
    gone: np.ndarray
    waiting: np.ndarray
    held: np.ndarray
    present: np.ndarray  # occupants at the start still in their places


Part = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(mask or weights, designation index, locality index)`` of some children or places."""


def _children(r: _Replication, values: np.ndarray) -> list[Part]:
    return [(values, r.designation, r.home)]


def _capacity(r: _Replication, s: _Snapshot) -> list[Part]:
    pools = r.p.pools
    return [(s.places, pools.designation, pools.locality)]


def _occupied(r: _Replication, s: _Snapshot) -> list[Part]:
    return [
        (s.present, r.occupant_designation, r.occupant_locality),
        (s.held, r.school_designation, r.school_locality),  # a place counts as its school's
    ]


def _pupils(r: _Replication, s: _Snapshot) -> list[Part]:
    """Children in the council's places: at the start and still there, or taken up and not left."""
    inside = (r.started <= s.now) & (r.leaves_placed > s.now)
    return [
        (s.present, r.occupant_designation, r.occupant_locality),
        (inside, r.designation, r.school_locality),
    ]


def _elsewhere(r: _Replication, s: _Snapshot) -> list[Part]:
    """Children needing a place who are placed outside the council's places.

    Placed elsewhere at the start; placed out of area from the list; or moved on
    from a council place (at the school's oldest age) while still needing one.
    """
    designation, locality, until = r.elsewhere
    moved_on = s.placed & (r.leaves_placed <= s.now) & (r.need_until > s.now)
    out_of_area = s.moved & (r.moved_until > s.now)
    pupils_moved_on = ~s.present & (r.occupant_until > s.now)
    return [
        (until > s.now, designation, locality),
        (out_of_area | moved_on, r.designation, r.home),
        (pupils_moved_on, r.occupant_designation, r.occupant_locality),
    ]


def _need(r: _Replication, s: _Snapshot) -> list[Part]:
    """Children needing a place, from when each starts and stops needing one alone."""
    designation, locality, until = r.elsewhere
    return [
        (r.occupant_until > s.now, r.occupant_designation, r.occupant_locality),
        (until > s.now, designation, locality),
        (s.referred & (r.need_until > s.now), r.designation, r.home),
    ]


def _long_terms(r: _Replication, s: _Snapshot) -> np.ndarray:
    waited = rules.whole_terms_waited(r.p.referral_terms, s.term)
    return s.waiting & (waited >= r.p.long_wait_terms)


def _long_weeks(r: _Replication, s: _Snapshot) -> np.ndarray:
    return s.waiting & rules.waited_over_weeks(r.p.children.time, s.now, r.p.long_wait_weeks)


def _cost(r: _Replication, s: _Snapshot) -> np.ndarray:
    """Cost of each child's out-of-area place from the start to the snapshot [GBP]."""
    inside = np.minimum(r.moved_until, s.now) - np.maximum(r.moves_at, r.p.start)
    days = np.where(s.moved, np.clip(inside, 0, None), 0.0)
    return r.p.out_of_area_cost / 365.25 * days


RULES: dict[str, Callable[[_Replication, _Snapshot], list[Part]]] = {
    "need": _need,
    "pupils": _pupils,
    "placed_elsewhere": _elsewhere,
    "capacity": _capacity,
    "occupied": _occupied,
    "referred": lambda r, s: _children(r, s.referred),
    "placed": lambda r, s: _children(r, s.placed),
    "waiting": lambda r, s: _children(r, s.waiting),
    "waiting_over_3_terms": lambda r, s: _children(r, _long_terms(r, s)),
    "waiting_over_52_weeks": lambda r, s: _children(r, _long_weeks(r, s)),
    "left_while_waiting": lambda r, s: _children(r, s.referred & s.gone),
    "aged_out_while_waiting": lambda r, s: _children(r, s.referred & s.gone & r.aged_out),
    "placed_out_of_area": lambda r, s: _children(r, s.moved),
    "out_of_area": lambda r, s: _children(r, s.moved & (r.moved_until > s.now)),
    "out_of_area_cost": lambda r, s: _children(r, _cost(r, s)),
    "placed_in_own_locality": lambda r, s: _children(r, s.placed & r.own),
}
"""What each placement measure counts at a snapshot."""

DERIVED: dict[str, Callable[[dict[str, np.ndarray]], np.ndarray]] = {
    "vacancies": lambda v: np.maximum(v["capacity"] - v["occupied"], 0),
}
"""Measures computed from others, breakdown by breakdown (places free, never below 0)."""

_PLACEMENT = [m for m in table.MEASURES if m.source == "placement"]
if {m.name for m in _PLACEMENT} != set(RULES) | set(DERIVED):  # pragma: no cover
    raise ImportError("placement.outputs: the rules do not match the table of measures")


def _tally(parts: list[Part], which: int, n: int, count: bool) -> np.ndarray:
    total = np.zeros(n, dtype=np.int64 if count else float)
    for values, *index in parts:
        where = index[which]
        if values.dtype == bool:
            total += np.bincount(where[values], minlength=n)
        else:
            keep = values != 0
            sums = np.bincount(where[keep], weights=values[keep], minlength=n)
            total += np.rint(sums).astype(np.int64) if count else sums
    return total


def _replication(p: PlacementProblem, placements: Placements) -> _Replication:
    placements.check(len(p.pools))
    c = p.children
    leaves_list = p.leaves_list
    ooa = p.exits.out_of_area
    moves = ~np.isfinite(placements.offered) & np.isfinite(ooa) & (ooa == leaves_list)
    pool = placements.pool
    offered = pool != rules.NO_POOL
    school = np.full(len(c), -1, dtype=np.int64)
    school[offered] = p.pools.locality[pool[offered]]
    school_designation = np.full(len(c), -1, dtype=np.int64)
    school_designation[offered] = p.pools.designation[pool[offered]]
    home = p.localities
    leaves_placed = p.leaves_places(placements)
    moved_until = np.where(moves, np.minimum(p.exits.age_out, ooa + p.exits.stay), -np.inf)
    a = p.account
    if a is None:  # a child needs a place until they leave the list, their place or out of area
        need_until = np.where(
            np.isfinite(placements.started),
            leaves_placed,
            np.where(moves, moved_until, leaves_list),
        )
        occupant_until = p.occupants.exit
        empty = np.zeros(0, dtype=np.int64)
        elsewhere = (empty, empty, np.zeros(0))
    else:
        need_until, occupant_until = a.child_until, a.occupant_until
        elsewhere = (a.elsewhere_designation, a.elsewhere_locality, a.elsewhere_until)
    return _Replication(
        p=p,
        designation=c.designation,
        home=home,
        offered=placements.offered,
        started=placements.started,
        leaves_placed=leaves_placed,
        leaves_list=leaves_list,
        aged_out=p.exits.age_out <= leaves_list,
        moves_at=np.where(moves, ooa, np.inf),
        moved_until=moved_until,
        own=offered & (school == home),
        school_locality=school,
        school_designation=school_designation,
        occupant_designation=p.pools.designation[p.occupants.pool],
        occupant_locality=p.pools.locality[p.occupants.pool],
        need_until=need_until,
        occupant_until=occupant_until,
        elsewhere=elsewhere,
    )


def _snapshot(r: _Replication, k: int) -> _Snapshot:
    p = r.p
    now = float(p.schedule.snapshots[k])
    referred = p.children.time <= now
    placed = r.started <= now
    moved = r.moves_at <= now
    gone = ~placed & ~moved & (r.leaves_list <= now)
    return _Snapshot(
        now=now,
        term=int(p.snapshot_terms[k]),
        places=p.capacity_at(now),
        referred=referred,
        placed=placed,
        moved=moved,
        gone=gone,
        waiting=referred & ~placed & ~gone & ~moved,
        held=(r.offered <= now) & (r.leaves_placed > now),
        present=p.occupants.exit > now,
    )


def measure(problem: PlacementProblem, placements: Placements) -> dict[str, np.ndarray]:
    """The placement measures of the table at each snapshot, by designation and locality.

    Parameters
    ----------
    problem : PlacementProblem
        The replication.
    placements : Placements
        An engine's decisions.

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
    r = _replication(p, placements)
    n_snaps = len(p.schedule.snapshots)
    out: dict[str, np.ndarray] = {}
    for m in _PLACEMENT:
        dtype = np.int64 if m.kind == "count" else float
        out[m.name] = np.zeros((n_snaps, p.n_designations), dtype=dtype)
        if m.by_locality:
            out[f"{m.name}_by_locality"] = np.zeros((n_snaps, p.n_localities), dtype=dtype)
    for k in range(n_snaps):
        s = _snapshot(r, k)
        by_designation: dict[str, np.ndarray] = {}
        by_locality: dict[str, np.ndarray] = {}
        for m in _PLACEMENT:
            if m.name not in RULES:
                continue
            parts = RULES[m.name](r, s)
            count = m.kind == "count"
            by_designation[m.name] = _tally(parts, 0, p.n_designations, count)
            if m.by_locality:
                by_locality[m.name] = _tally(parts, 1, p.n_localities, count)
        for name, rule in DERIVED.items():
            by_designation[name] = rule(by_designation)
            if table.get(name).by_locality:
                by_locality[name] = rule(by_locality)
        for name, v in by_designation.items():
            out[name][k] = v
        for name, v in by_locality.items():
            out[f"{name}_by_locality"][k] = v
    return out
