"""Small hand-made placement problems, for tests that know every child's story."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np

from placeplan.calendar import TermCalendar
from placeplan.demand.referrals import Referrals
from placeplan.placement import Exits, Occupants, PlacementProblem, rules
from placeplan.placement.problem import Pools
from placeplan.placement.schedule import AT_SNAPSHOT, make_schedule
from placeplan.scenario import PanelSpec

CAL = TermCalendar()
START = date(2025, 9, 1)


def day(d: date, at: float = 0.0) -> float:
    """Day ordinal of ``d`` at time of day ``at``."""
    return float(d.toordinal()) + at


def make_problem(
    referred: list[float],
    *,
    age: list[int] | None = None,
    designation: list[int] | None = None,
    locality: list[int] | None = None,
    pools: list[tuple[int, int, int, int, int]] = ((0, 0, 0, 25, 1),),
    neighbours: list[list[int]] | None = None,
    occupants: list[tuple[int, float]] = (),
    age_out: list[float] | None = None,
    stay: list[float] | None = None,
    patience: list[float] | None = None,
    out_of_area: list[float] | None = None,
    every_days: int | str | None = None,
    start_places: str = "next_term",
    long_wait_terms: int = 3,
    long_wait_weeks: float = 52.0,
    snapshots: str | float = "census",
    snapshot_days: list[date] | None = None,
    years: int = 3,
    openings: tuple[tuple[float, int, int], ...] = (),
    out_of_area_cost: float = 0.0,
    start: date = START,
) -> PlacementProblem:
    """A placement problem from lists, one entry a child (sorted by referral).

    ``pools`` are ``(designation, locality, youngest, oldest, places)``; ``occupants``
    ``(pool, leaves)``. Everything a child does not say is "never" (``inf``).
    """
    n = len(referred)
    inf = [np.inf] * n
    designation = [0] * n if designation is None else designation
    n_designations = 1 + max([p[0] for p in pools] + list(designation))
    n_localities = 1 + max([p[1] for p in pools] + list(locality or [0]))
    neighbours = neighbours or [[] for _ in range(n_localities)]
    pool_d = [p[0] for p in pools]
    pool_l = [p[1] for p in pools]
    pool_table = Pools(
        np.array(pool_d, dtype=np.int64),
        np.array(pool_l, dtype=np.int64),
        np.array([p[2] for p in pools], dtype=np.int64),
        np.array([p[3] for p in pools], dtype=np.int64),
        rules.preference(pool_d, pool_l, neighbours, n_designations),
    )
    end = date(start.year + years, start.month, start.day)
    panel = PanelSpec(every_days=every_days, start_places=start_places)
    schedule = make_schedule(CAL, panel, start, end, snapshots)
    if snapshot_days is not None:  # at the end of each of these days
        schedule = dataclasses.replace(
            schedule,
            snapshots=np.array([day(d, AT_SNAPSHOT) for d in snapshot_days]),
            snapshot_dates=list(snapshot_days),
        )
    time = np.array(referred, dtype=float)
    children = Referrals(
        time,
        np.array([10] * n if age is None else age, dtype=np.int16),
        np.full(n, -1, dtype=np.int16),
        np.array(designation, dtype=np.int16),
    )
    exits = Exits(
        np.array(inf if age_out is None else age_out, dtype=float),
        np.array(inf if stay is None else stay, dtype=float),
        np.array(inf if patience is None else patience, dtype=float),
        None if out_of_area is None else np.array(out_of_area, dtype=float),
    )
    occ_pool = np.array([q for q, _ in occupants], dtype=np.int64)
    occ = Occupants(
        np.array([pool_d[q] if q < len(pools) else 0 for q in occ_pool], dtype=np.int16),
        np.zeros(len(occ_pool), dtype=np.int16),
        np.array([t for _, t in occupants], dtype=float),
        occ_pool,
    )
    return PlacementProblem(
        n_designations=n_designations,
        pools=pool_table,
        capacity=np.array([p[4] for p in pools], dtype=np.int64),
        openings=tuple(openings),
        occupants=occ,
        children=children,
        exits=exits,
        schedule=schedule,
        continuous=every_days == "continuous",
        start_places=start_places,  # type: ignore[arg-type]
        referral_terms=CAL.term_indices(time),
        snapshot_terms=CAL.term_indices(schedule.snapshots),
        long_wait_terms=long_wait_terms,
        long_wait_weeks=long_wait_weeks,
        start=day(start),
        out_of_area_cost=out_of_area_cost,
        child_locality=None if locality is None else np.array(locality, dtype=np.int64),
        n_localities=n_localities,
    )
