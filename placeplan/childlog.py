"""The child log: one row per child and replication, to audit or recompute any figure."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from placeplan.scenario import NEEDS

__all__ = ["OUTCOMES", "child_log"]

OUTCOMES = ("placed", "offered", "waiting", "out_of_area", "left_list", "aged_out")
"""Outcome of a child at the end of the forecast: took a place up; offered one to take up
after the end; still waiting; placed out of area; left the list (moved away, other
provision); left the list because of their age."""


_EPOCH = date(1970, 1, 1).toordinal()
"""Day ordinal of 1970-01-01, where numpy's datetimes count from."""


def _dates(ordinals: np.ndarray) -> pd.Series:
    """Instants from day ordinals, to the second (NaT where not finite).

    Referrals fall at times of day, and a census is taken at the end of its day
    (:data:`placeplan.placement.schedule.AT_SNAPSHOT`); keeping the time of day lets
    the log's counts at a census equal the measures'.
    """
    ordinals = np.asarray(ordinals, dtype=float)
    ok = np.isfinite(ordinals)
    seconds = np.zeros(len(ordinals), dtype="int64")
    seconds[ok] = np.round((ordinals[ok] - _EPOCH) * 86400.0).astype("int64")
    out = pd.Series(seconds.astype("datetime64[s]"), index=range(len(ordinals)))
    out[~ok] = pd.NaT
    return out


def child_log(model, rep, replicate: int) -> pd.DataFrame:
    """One row per child of a replication.

    Columns: ``replicate``, ``child`` (its number in order of referral), ``need``
    (primary need, empty where the demand model has none), ``designation``,
    ``locality`` (where the child lives), ``age`` (SEN2 age in the year of
    referral), ``initial`` (on the list at the start), ``referred``, ``offered``,
    ``placed`` (date the place was taken up), ``school`` (of the place taken up),
    ``left`` (date the child left the list or the place, if within the forecast),
    and ``outcome`` (:data:`OUTCOMES`).

    Parameters
    ----------
    model : placeplan.model.Model
        The model the replication came from.
    rep : placeplan.model.Replication
        The replication.
    replicate : int
        Its number.

    Returns
    -------
    pandas.DataFrame
    """
    p = rep.problem
    c = p.children
    end = model._end
    offered, started = rep.outcome.offered, rep.outcome.started
    placed = started < end
    leaves_list = p.leaves_list
    leaves_place = p.leaves_places(rep.outcome.placements)
    left = np.where(np.isfinite(started), leaves_place, leaves_list)
    outcome = np.full(len(c), "waiting", dtype=object)
    gone = ~np.isfinite(offered) & (leaves_list < end)
    outcome[gone] = np.where(p.exits.age_out[gone] <= leaves_list[gone], "aged_out", "left_list")
    ooa = gone & (p.exits.out_of_area == leaves_list)
    outcome[ooa] = "out_of_area"
    outcome[np.isfinite(offered) & ~placed] = "offered"
    outcome[placed] = "placed"
    if len(c) and (c.need.min() < -1 or c.need.max() >= len(NEEDS)):
        raise ValueError(f"need codes must be -1 (none) or index NEEDS (0–{len(NEEDS) - 1})")
    need = np.full(len(c), "", dtype=object)  # -1: the demand model has no need
    known = c.need >= 0
    need[known] = np.array(NEEDS, dtype=object)[c.need[known]]
    designations = np.array(model.scenario.designations, dtype=object)
    localities = np.array(model.localities, dtype=object)
    school = np.full(len(c), "", dtype=object)
    school[placed] = np.array(model.pool_names, dtype=object)[rep.outcome.pool[placed]]
    return pd.DataFrame(
        {
            "replicate": replicate,
            "child": np.arange(len(c)),
            "need": need,
            "designation": designations[c.designation],
            "locality": localities[p.localities],
            "age": c.age,
            "initial": rep.initial,
            "referred": _dates(c.time),
            "offered": _dates(np.where(offered < end, offered, np.inf)),
            "placed": _dates(np.where(placed, started, np.inf)),
            "school": school,
            "left": _dates(np.where(left < end, left, np.inf)),
            "outcome": outcome,
        }
    )
