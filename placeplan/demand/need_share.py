"""The share of plans needing a special school, measured from need rather than placements.

Placements in special schools are capped by the places there are: where places run
short, children who need one wait, educated elsewhere. The share of plans *needing*
a special school is therefore measured as

    need = special + waiting,   need share = need / plans,

where ``special`` counts children with plans in special schools of every type (LA
maintained, academy and free, independent and non-maintained: SEN2's
``special_total``) and ``waiting`` is the observed waiting signal below. Each
January from 2019 (the first of SEN2's current series).

The waiting signal
------------------
SEN2 publishes two counts of children with plans who are not in a school of any
listed type: *educated elsewhere* (``ed_elsewhere``: other arrangements by the
council or by parents, elective home education, not in education or training,
other settings; every January 2019–2025) and *awaiting provision*
(``await_prov_2022``; published for January 2019–2022 only). The rule is

    waiting = ed_elsewhere + await_prov   for Januaries up to 2022,
    waiting = ed_elsewhere                from January 2023,

because from 2023, when SEN2 became an individual-level collection, children
awaiting provision are counted inside *educated elsewhere*. The evidence:

- DfE's data guidance for the 2025 release (caseload.csv, footnote 3): the
  residual placement category "includes those awaiting provision, those where a
  type of setting is specified in the EHC plan (e.g. special school) but no
  specific setting is named, those out of provision", and ``await_prov_2022`` is
  described as "Awaiting provision (pre 2023 only)".
- England: educated elsewhere was 22,364 in January 2022 and 31,640 in 2023
  (+41%, after +35%, +24%, +15% a year in 2020–2022);
  educated elsewhere plus awaiting provision was 28,706 in 2022 (6,342 awaiting),
  so the combined series grows 0.31, 0.20, 0.13, then 0.10 into 2023, 0.25 and
  0.20 after: no break.
- Across the councils (about 150) with both series: the median yearly log growth of
  educated elsewhere is 0.27, 0.21, 0.15 in 2020–2022, then 0.39 into 2023, then
  0.28 and 0.21; that of the combined series is 0.23, 0.22, 0.13, 0.18, 0.28,
  0.21. As a share of plans, the combined series runs 3.9%, 4.4%, 4.9%, 4.9%,
  5.5%, 6.7%, 7.0% (median council, 2019–2025), educated elsewhere alone jumps
  from 4.3% to 5.5% in 2023. A council's 2023 jump in educated elsewhere grows
  with its awaiting provision in 2022: over the 146 councils with at least 20
  educated elsewhere, the slope of the log jump on ``log((ed + await) / ed)`` of
  2022 is 0.60, against 0.25–0.42 for the same regression in 2020–2022, where no
  folding happened.
- Hertfordshire: 74 + 107, 109 + 112, 93 + 130, 145 + 133 (2019–2022), then 384,
  638, 653: the 2023 step (278 to 384) is that of its neighbouring years, not 145
  to 384.

Caveats: educated elsewhere also counts children who are not waiting for a special
school (elective home education by choice, young people over 16 not in education,
other arrangements made to meet the plan), so need is an upper bound on the level;
it is the trend that the calibration uses, and that counts of the waiting signal
grow with the queue. The category "placement not recorded", new in 2023 (12,127 in
England in 2023; councils unable to return placements), is a gap in the data, not
a waiting signal, and is left out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from placeplan import sen2

__all__ = ["AWAIT_FOLDED_FROM", "COLUMNS", "FIRST_YEAR", "need_series", "waiting_signal"]

AWAIT_FOLDED_FROM = 2023
"""First January in which awaiting provision is counted within educated elsewhere."""

FIRST_YEAR = 2019
"""First January of the need series (SEN2's current series of placements)."""

COLUMNS = [
    "year",
    "plans",
    "special",
    "special_independent",
    "special_non_maintained",
    "ed_elsewhere",
    "await_prov",
    "waiting",
    "need",
    "need_share",
    "placement_share",
]
"""Columns of :func:`need_series`."""


def waiting_signal(
    ed_elsewhere: np.ndarray, await_prov: np.ndarray, years: np.ndarray
) -> np.ndarray:
    """The waiting signal: educated elsewhere, plus awaiting provision up to 2022.

    Parameters
    ----------
    ed_elsewhere : numpy.ndarray
        Children with plans educated elsewhere each January, ``[..., year]``
        [children]; NaN where unknown.
    await_prov : numpy.ndarray
        Children awaiting provision, same shape [children]; needed (finite) for
        Januaries before :data:`AWAIT_FOLDED_FROM`, ignored from then on.
    years : numpy.ndarray
        The January of each column, ``[year]``.

    Returns
    -------
    numpy.ndarray
        The waiting signal [children], NaN where a needed count is missing.
    """
    ed = np.asarray(ed_elsewhere, dtype=float)
    waiting = np.asarray(await_prov, dtype=float)
    before = np.asarray(years) < AWAIT_FOLDED_FROM
    return np.where(before, ed + waiting, ed)


def need_series(
    area: str | sen2.SEN2Tables, until: int | None = None, *, sen2_dir: str | Path | None = None
) -> pd.DataFrame:
    """The need share of one area each January from 2019.

    Parameters
    ----------
    area : str or placeplan.sen2.SEN2Tables
        Council, region or England: a name or code :func:`placeplan.sen2.load`
        knows, or the tables it returned for one area.
    until : int, optional
        Last January kept (data known then); all published Januaries if omitted.
    sen2_dir : str or pathlib.Path, optional
        A folder of official SEN2 files to read instead of the shipped extract
        (when ``area`` is a name or code).

    Returns
    -------
    pandas.DataFrame
        One row per January with :data:`COLUMNS`: ``plans``, ``special`` (special
        schools of every type, of which ``special_independent`` and
        ``special_non_maintained``), ``ed_elsewhere`` and ``await_prov`` as published
        [children]; ``waiting`` (:func:`waiting_signal`) and ``need = special +
        waiting`` [children]; ``need_share = need / plans`` and ``placement_share =
        special / plans`` [1]. Missing counts are NaN.

    Raises
    ------
    KeyError
        If no area matches ``area`` (from :func:`placeplan.sen2.load`).
    ValueError
        If ``area`` is tables of more than one area.
    """
    one = sen2.load(area, sen2_dir=sen2_dir) if isinstance(area, str) else area
    totals = one.plans_total
    if len(set(totals["code"].dropna())) > 1:
        raise ValueError("need_series takes the tables of one area (sen2.load(area))")
    totals = totals[totals["year"] >= FIRST_YEAR]
    if until is not None:
        totals = totals[totals["year"] <= until]
    totals = totals.drop_duplicates("year").sort_values("year")
    out = pd.DataFrame({"year": totals["year"].to_numpy(dtype=int)})
    for column in COLUMNS[1:7]:
        out[column] = totals[column].to_numpy(dtype=float, na_value=np.nan)
    out["waiting"] = waiting_signal(out["ed_elsewhere"], out["await_prov"], out["year"])
    out["need"] = out["special"] + out["waiting"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["need_share"] = out["need"] / out["plans"]
        out["placement_share"] = out["special"] / out["plans"]
    return out[COLUMNS]
