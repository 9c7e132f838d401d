"""SEN2 series of every council as arrays: the panel that calibration and backtests read.

``plans[c, y]`` are plans each January, ``new[c, y]`` new plans made in calendar year
``y``, ``special[c, y]`` plans in special schools each January (from 2019) and
``waiting[c, y]`` the waiting signal (:func:`~placeplan.demand.need_share.waiting_signal`),
for council ``c`` and year ``y`` in :data:`YEARS`. Missing values are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeplan import sen2
from placeplan.demand.need_share import waiting_signal
from placeplan.scenario import LAST_BASE_YEAR

__all__ = ["YEARS", "Panel", "panel"]

YEARS = np.arange(2009, LAST_BASE_YEAR + 1)
"""Years of the panel: Januaries for stocks, calendar years for new plans (NaN where the
releases read do not reach: the shipped extract ends at January 2025 and calendar 2024)."""


@dataclass(frozen=True)
class Panel:
    """SEN2 series of a set of areas, aligned on :data:`YEARS`.

    Attributes
    ----------
    codes, names : numpy.ndarray
        ONS code and name of each area.
    plans : numpy.ndarray
        Plans (statements and plans before 2019) each January, ``[area, year]`` [plans].
    new : numpy.ndarray
        New plans made in each calendar year, ``[area, year]`` [plans per year].
    special : numpy.ndarray
        Plans in special schools (of every type) each January, ``[area, year]`` [plans].
    waiting : numpy.ndarray
        The waiting signal each January, ``[area, year]`` [children]: educated
        elsewhere, plus awaiting provision up to 2022
        (:func:`~placeplan.demand.need_share.waiting_signal`).
    release : str
        The SEN2 release(s).
    """

    codes: np.ndarray
    names: np.ndarray
    plans: np.ndarray
    new: np.ndarray
    special: np.ndarray
    waiting: np.ndarray
    release: str

    def year(self, y: int) -> int:
        """Column index of year ``y``."""
        if not YEARS[0] <= y <= YEARS[-1]:
            raise ValueError(f"{y} is outside the SEN2 years {YEARS[0]}–{YEARS[-1]}")
        return int(y - YEARS[0])

    @property
    def need(self) -> np.ndarray:
        """Children needing a special school: in one, or waiting (``special + waiting``)."""
        return self.special + self.waiting

    def series(self, quantity: str) -> np.ndarray:
        """A series by name: ``ehcp_plans``, ``special_school`` or ``specialist_need``."""
        return {
            "ehcp_plans": self.plans,
            "special_school": self.special,
            "specialist_need": self.need,
        }[quantity]

    def select(self, mask: np.ndarray) -> Panel:
        """The panel of the areas where ``mask`` is true."""
        return Panel(
            self.codes[mask],
            self.names[mask],
            self.plans[mask],
            self.new[mask],
            self.special[mask],
            self.waiting[mask],
            self.release,
        )


def _pivot(frame: pd.DataFrame, value: str, codes: pd.Index) -> np.ndarray:
    table = frame.pivot_table(index="code", columns="year", values=value, aggfunc="first")
    table = table.reindex(index=codes, columns=YEARS)
    return table.to_numpy(dtype=float, na_value=np.nan)


def panel(level: str = "la", tables: sen2.SEN2Tables | None = None) -> Panel:
    """Series of every area of one level (``la``, ``regional`` or ``national``).

    New plans of a council left blank in the published totals (the 2022 Yorkshire
    and The Humber figures, which repeat the regional total; see the extract's
    ``corrections`` table) are taken from the sum of the council's new plans by age.

    Parameters
    ----------
    level : str
        Level of the areas.
    tables : placeplan.sen2.SEN2Tables, optional
        All areas' SEN2 tables; the shipped extract if omitted.

    Returns
    -------
    Panel
    """
    t = tables if tables is not None else sen2.load()
    totals = t.plans_total[t.plans_total["level"] == level]
    codes = pd.Index(sorted(totals["code"].dropna().unique()))
    names = totals.drop_duplicates("code").set_index("code")["name"].reindex(codes)
    plans = _pivot(totals, "plans", codes)
    special = _pivot(totals, "special", codes)
    waiting = waiting_signal(
        _pivot(totals, "ed_elsewhere", codes), _pivot(totals, "await_prov", codes), YEARS
    )
    new_totals = t.new_plans_total[t.new_plans_total["level"] == level]
    new = _pivot(new_totals, "new_plans", codes)
    by_age = t.new_plans_by_age[t.new_plans_by_age["level"] == level]
    if not by_age.empty:
        summed = by_age.groupby(["code", "year"])["new_plans"].sum(min_count=1).reset_index()
        new = np.where(np.isnan(new), _pivot(summed, "new_plans", codes), new)
    return Panel(
        codes=codes.to_numpy(dtype=str),
        names=names.to_numpy(dtype=str),
        plans=plans,
        new=new,
        special=special,
        waiting=waiting,
        release=t.release,
    )
