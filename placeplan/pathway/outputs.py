"""The pathway's variables in a run's Dataset, and their summaries.

Each replication contributes, for each calendar year of the forecast (dimension
``year``; a year only partly inside the forecast counts its part), the figures of
:func:`placeplan.pathway.engine.yearly` as ``pathway_<name>``; at each snapshot
(dimension ``time``, the census days of the house calendar by default) the open
cases older than 20 weeks, ``pathway_backlog_over_20_weeks``; and, with cohort
demand, what the pathway did to the referrals for places
(:class:`placeplan.pathway.feed.FeedReport`). Their names and units are in
:data:`VARIABLES`; :func:`summary` gives mean and percentiles by year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from placeplan.pathway.engine import backlog_at, yearly

__all__ = ["VARIABLES", "add_to_dataset", "replication_arrays", "summary", "years_of"]

VARIABLES: dict[str, tuple[str, str, str]] = {
    "pathway_requests": ("year", "requests", "Requests for an EHC needs assessment"),
    "pathway_decisions": ("year", "requests", "Decisions whether to assess"),
    "pathway_decided_to_assess": ("year", "requests", "Decisions to assess"),
    "pathway_assessments": ("year", "requests", "Assessments completed"),
    "pathway_plans_issued": ("year", "plans", "New EHC plans issued"),
    "pathway_within_20_weeks": ("year", "plans", "New plans issued within 20 weeks"),
    "pathway_pct_within_20_weeks": ("year", "%", "Share of new plans issued within 20 weeks"),
    "pathway_weeks_to_plan_mean": ("year", "weeks", "Mean time from request to plan"),
    "pathway_weeks_to_plan_median": ("year", "weeks", "Median time from request to plan"),
    "pathway_weeks_to_plan_p90": ("year", "weeks", "90th percentile of time from request to plan"),
    "pathway_backlog_over_20_weeks": (
        "time",
        "requests",
        "Open requests older than 20 weeks (awaiting a decision, an assessment or a plan)",
    ),
    "pathway_referral_shift_weeks": (
        "year",
        "weeks",
        "Shift of referrals for places from new plans (time to plan less its baseline)",
    ),
    "pathway_referrals_from_new_plans": (
        "year",
        "children",
        "Referrals for places from new plans (by their projected year)",
    ),
    "pathway_referrals_into_earlier_year": (
        "year",
        "children",
        "Referrals for places the pathway moved into an earlier calendar year",
    ),
    "pathway_referrals_into_later_year": (
        "year",
        "children",
        "Referrals for places the pathway moved into a later calendar year (or past the end)",
    ),
}
"""Dataset variables of the pathway: dimension besides ``replicate``, units, long name."""


def years_of(scenario) -> np.ndarray:
    """Calendar years of a scenario's forecast (the ``year`` coordinate).

    Those of which the forecast covers more than half (a forecast from 6 January
    2025 for ten years has the years 2025–2034).
    """
    from datetime import date

    lo, hi = scenario.start.toordinal(), scenario.end.toordinal()
    out = []
    for y in range(scenario.start.year, scenario.end.year + 1):
        a, b = date(y, 1, 1).toordinal(), date(y + 1, 1, 1).toordinal()
        if min(b, hi) - max(a, lo) > (b - a) / 2:
            out.append(y)
    return np.array(out, dtype=np.int64)


def replication_arrays(rep, years: np.ndarray, snapshots: np.ndarray) -> dict[str, np.ndarray]:
    """The pathway arrays one replication adds to the Dataset (empty without a pathway)."""
    draw = rep.pathway
    if draw is None:
        return {}
    out = {f"pathway_{name}": v for name, v in yearly(draw, years).items()}
    out["pathway_backlog_over_20_weeks"] = backlog_at(draw, snapshots).astype(float)
    feed = rep.feed
    if feed is not None:
        k = np.searchsorted(feed.years, years)
        out["pathway_referral_shift_weeks"] = feed.shift_weeks[k]
        out["pathway_referrals_from_new_plans"] = feed.from_new_plans[k].astype(float)
        out["pathway_referrals_into_earlier_year"] = feed.into_earlier_year[k].astype(float)
        out["pathway_referrals_into_later_year"] = feed.into_later_year[k].astype(float)
    return out


def add_to_dataset(ds: xr.Dataset, arrays: dict[str, np.ndarray], years: np.ndarray) -> xr.Dataset:
    """The Dataset with the pathway's stacked arrays (``replicate × year`` or ``× time``)."""
    if not arrays:
        return ds
    ds = ds.assign_coords(year=("year", np.asarray(years, dtype=np.int64)))
    ds["year"].attrs.update(long_name="Calendar year")
    for name, values in arrays.items():
        dim, units, label = VARIABLES[name]
        ds[name] = xr.Variable(("replicate", dim), values, {"units": units, "long_name": label})
    return ds


def summary(ds: xr.Dataset) -> pd.DataFrame:
    """Mean and 10th, 50th and 90th percentiles of the pathway's yearly figures.

    Returns
    -------
    pandas.DataFrame
        One row per year and statistic (``mean``, ``p10``, ``p50``, ``p90``), one
        column per ``pathway_*`` variable by year; empty without a pathway.
    """
    names = [n for n, (dim, _, _) in VARIABLES.items() if dim == "year" and n in ds]
    if not names:
        return pd.DataFrame(columns=["year", "statistic"])
    rows = []
    block = ds[names]
    stats = {
        "mean": block.mean("replicate", skipna=True),
        "p10": block.quantile(0.1, dim="replicate", skipna=True).drop_vars("quantile"),
        "p50": block.quantile(0.5, dim="replicate", skipna=True).drop_vars("quantile"),
        "p90": block.quantile(0.9, dim="replicate", skipna=True).drop_vars("quantile"),
    }
    for stat, values in stats.items():
        frame = values.to_dataframe()[names].reset_index()
        frame.insert(1, "statistic", stat)
        rows.append(frame)
    order = {s: i for i, s in enumerate(stats)}
    out = pd.concat(rows, ignore_index=True)
    out = out.sort_values(
        ["year", "statistic"], key=lambda c: c.map(order) if c.name == "statistic" else c
    )
    return out.reset_index(drop=True)


def headline(results) -> pd.DataFrame:
    """Share of new plans issued within 20 weeks by year, with its 80% interval.

    Returns
    -------
    pandas.DataFrame
        One row per calendar year: ``median``, ``p10``, ``p90`` [%], ``p_target``
        (share of replications at or above the target; NaN without one), the median
        of plans issued [plans], of the median weeks to plan [weeks], and of the
        open requests older than 20 weeks at the January census [requests] (NaN in
        a year without a January snapshot). Empty without a pathway.
    """
    ds = results.dataset
    columns = [
        "year",
        "median",
        "p10",
        "p90",
        "p_target",
        "plans_issued",
        "weeks_to_plan_median",
        "backlog_over_20_weeks_january",
    ]
    if "pathway_pct_within_20_weeks" not in ds:
        return pd.DataFrame(columns=columns)
    pct = ds["pathway_pct_within_20_weeks"]
    target = results.scenario.pathway.target_pct_within_20_weeks
    times = pd.to_datetime(ds["time"].to_numpy())
    backlog = ds["pathway_backlog_over_20_weeks"]
    rows = []
    for j, year in enumerate(ds["year"].to_numpy()):
        p = pct.isel(year=j).to_numpy()
        ok = np.isfinite(p)
        jan = np.flatnonzero((times.month == 1) & (times.year == year))
        rows.append(
            (
                int(year),
                *(
                    (np.median(p[ok]), np.quantile(p[ok], 0.1), np.quantile(p[ok], 0.9))
                    if ok.any()
                    else (np.nan,) * 3
                ),
                np.mean(p[ok] >= target) if target is not None and ok.any() else np.nan,
                float(ds["pathway_plans_issued"].isel(year=j).median()),
                float(ds["pathway_weeks_to_plan_median"].isel(year=j).median(skipna=True)),
                float(backlog.isel(time=jan[0]).median()) if len(jan) else np.nan,
            )
        )
    return pd.DataFrame(rows, columns=columns)


def headline_text(results) -> list[str]:
    """The pathway's headline as lines of text (for the CLI and the report)."""
    table = headline(results)
    if not len(table):
        return []
    spec = results.scenario.pathway
    target = spec.target_pct_within_20_weeks
    out = [
        "New EHC plans issued within 20 weeks, by calendar year"
        + (f" (target {target:g}%)" if target is not None else ""),
        f"{'year':<6}{'median':>8}{'80% interval':>18}"
        + (f"{'P(>= target)':>14}" if target is not None else "")
        + f"{'plans':>8}{'weeks to plan':>15}{'open > 20 wk (Jan)':>20}",
    ]
    for row in table.itertuples(index=False):
        line = (
            f"{row.year:<6}{row.median:>7.1f}%{row.p10:>9.1f}% – {row.p90:>5.1f}%"
            + (f"{row.p_target:>14.0%}" if target is not None else "")
            + f"{row.plans_issued:>8.0f}{row.weeks_to_plan_median:>15.1f}"
            + f"{row.backlog_over_20_weeks_january:>20.0f}"
        )
        out.append(line.replace("nan", "  —"))
    return out


FEED_TEXT = (
    "How the pathway moves referrals for places: the cohort projection's referrals "
    "already embed the time plans took in the SEN2 years it was fitted on. Each "
    "referral that comes from a new plan (with the probability of its age: the "
    "council's new plans × the share of plans of that age needing a place, over the "
    "referrals the projection expects) is moved by the change in the pathway's mean "
    "time to plan, that of the plans issued around its date less the baseline (the "
    "forecast's first year, or pathway.feed.baseline_weeks_to_plan): a faster pathway "
    "brings referrals for places forward, a slower one pushes them back. Referrals "
    "moved past the end leave the forecast and are counted."
)
"""The report's account of the feed from the pathway to places."""


def feed_table(results) -> pd.DataFrame:
    """Median over replications of the referrals moved, by year (empty without a feed)."""
    ds = results.dataset
    names = {
        "pathway_referral_shift_weeks": "shift [weeks]",
        "pathway_referrals_from_new_plans": "referrals from new plans",
        "pathway_referrals_into_earlier_year": "moved into an earlier year",
        "pathway_referrals_into_later_year": "moved into a later year (or past the end)",
    }
    if "pathway_referral_shift_weeks" not in ds:
        return pd.DataFrame()
    out = pd.DataFrame({"year": ds["year"].to_numpy()})
    for name, label in names.items():
        out[label] = np.round(ds[name].median("replicate").to_numpy(), 1)
    return out
