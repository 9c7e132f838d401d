"""Backtests: forecast from past origins with only the data known then, score against SEN2.

The forecast is that of :func:`~placeplan.demand.calibrate.project_totals`; the
naive forecasts a method must beat are the last value (``naive_last``) and the last
value continuing the last year's growth rate (``naive_trend``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from placeplan.demand.calibrate import QUANTITIES, fit, project_totals
from placeplan.demand.panel import YEARS, Panel

__all__ = ["COLUMNS", "backtest", "england_check", "forecast_draws", "score"]

COLUMNS = [
    "council_code",
    "council",
    "origin",
    "year",
    "quantity",
    "actual",
    "p10",
    "p50",
    "p90",
    "naive_last",
    "naive_trend",
]
"""Columns of a backtest table (``year`` is the January of the snapshot)."""


def forecast_draws(
    p: Panel, origin: int, horizon: int, replications: int, seed: int
) -> dict[str, np.ndarray]:
    """Draws of every area's forecast from one origin (its own stream of the seed)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(origin,)))
    return project_totals(fit(p, origin), horizon, replications, rng)


def _percentiles(draws: np.ndarray, q: list[float]) -> np.ndarray:
    """Percentiles over the last axis; NaN (without a warning) where all draws are NaN."""
    out = np.full((len(q), *draws.shape[:-1]), np.nan)
    ok = np.isfinite(draws).all(axis=-1)
    if ok.any():
        out[:, ok] = np.percentile(draws[ok], q, axis=-1)
    return out


def backtest(
    p: Panel,
    origins: Iterable[int],
    horizon: int = 3,
    replications: int = 2000,
    seed: int = 0,
    quantities: tuple[str, ...] = QUANTITIES,
) -> pd.DataFrame:
    """Forecast every area of a panel from each origin and set the forecasts beside what happened.

    Parameters
    ----------
    p : Panel
        SEN2 series of the areas to forecast.
    origins : iterable of int
        Januaries to forecast from.
    horizon : int
        Years ahead, 1 to ``horizon`` [years].
    replications : int
        Draws behind each interval [1].
    seed : int
        Root seed; each origin draws from its own stream.
    quantities : tuple of str
        Quantities scored: those of :data:`~placeplan.demand.calibrate.QUANTITIES`
        by default; ``specialist_need`` (special school plans plus the waiting
        signal, forecast with the need share trend) may be added.

    Returns
    -------
    pandas.DataFrame
        One row per area, origin, year and quantity, with :data:`COLUMNS`. ``actual``
        is missing where SEN2 has not (yet) published the year; forecasts are
        missing where an area's series is too short at the origin.
    """
    frames = []
    for origin in origins:
        draws = forecast_draws(p, origin, horizon, replications, seed)
        o = p.year(origin)
        for quantity in quantities:
            series = p.series(quantity)
            last, previous = series[:, o], series[:, o - 1]
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = last / previous
            q10, q50, q90 = _percentiles(draws[quantity], [10, 50, 90])
            for h in range(1, horizon + 1):
                year = origin + h
                actual = (
                    series[:, p.year(year)] if year <= YEARS[-1] else np.full(len(last), np.nan)
                )
                frames.append(
                    pd.DataFrame(
                        {
                            "council_code": p.codes,
                            "council": p.names,
                            "origin": origin,
                            "year": year,
                            "quantity": quantity,
                            "actual": actual,
                            "p10": q10[:, h - 1],
                            "p50": q50[:, h - 1],
                            "p90": q90[:, h - 1],
                            "naive_last": last,
                            "naive_trend": last * rate**h,
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def score(table: pd.DataFrame, by: tuple[str, ...] = ("quantity", "horizon")) -> pd.DataFrame:
    """Coverage of the 80% interval and mean absolute percentage errors.

    Rows without an actual value or a forecast are left out.

    Parameters
    ----------
    table : pandas.DataFrame
        A backtest table (:func:`backtest`).
    by : tuple of str
        Grouping columns; ``horizon`` is ``year - origin``.

    Returns
    -------
    pandas.DataFrame
        ``n``, ``coverage_80`` (share of actuals within ``[p10, p90]``), and
        ``mape_p50``, ``mape_naive_last``, ``mape_naive_trend`` [%].
    """
    t = table.assign(horizon=table["year"] - table["origin"])
    t = t.dropna(subset=["actual", "p10", "p50", "p90", "naive_last", "naive_trend"])
    t = t[t["actual"] > 0]
    methods = ("p50", "naive_last", "naive_trend")
    ape = {m: (t[m] - t["actual"]).abs() / t["actual"] * 100 for m in methods}
    t = t.assign(
        covered=(t["actual"] >= t["p10"]) & (t["actual"] <= t["p90"]),
        **{f"ape_{m}": v for m, v in ape.items()},
    )
    grouped = t.groupby(list(by)) if by else t.groupby(lambda _: "all")
    return grouped.agg(
        n=("covered", "size"),
        coverage_80=("covered", "mean"),
        mape_p50=("ape_p50", "mean"),
        mape_naive_last=("ape_naive_last", "mean"),
        mape_naive_trend=("ape_naive_trend", "mean"),
    )


def england_check(
    councils: Panel,
    england: Panel,
    origin: int,
    horizon: int,
    replications: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The sum of the councils' forecasts beside England's series.

    Parameters
    ----------
    councils : Panel
        Every council (``panel("la")``).
    england : Panel
        The national series (``panel("national")``).
    origin, horizon : int
        Origin January and years ahead.
    replications, seed : int
        As for :func:`backtest`.

    Returns
    -------
    pandas.DataFrame
        Per quantity and year: the sum over councils of their medians
        (``councils_p50_sum``), the 10th–90th percentiles of the sum of their draws
        when councils vary independently (``councils_sum_p10``/``_p90``: narrower
        than the truth where shocks are shared), England's own forecast (``england_p50``,
        ``england_p10``, ``england_p90``), and the published national figure.
    """
    local = forecast_draws(councils, origin, horizon, replications, seed)
    national = forecast_draws(england, origin, horizon, replications, seed)
    rows = []
    for quantity in QUANTITIES:
        draws = local[quantity]
        ok = np.isfinite(draws).all(axis=(1, 2))
        total = draws[ok].sum(axis=0)
        median = _percentiles(draws[ok], [50])[0].sum(axis=0)
        e10, e50, e90 = _percentiles(national[quantity], [10, 50, 90])
        series = england.series(quantity)[0]
        for h in range(1, horizon + 1):
            year = origin + h
            rows.append(
                {
                    "quantity": quantity,
                    "origin": origin,
                    "year": year,
                    "councils": int(ok.sum()),
                    "councils_p50_sum": median[h - 1],
                    "councils_sum_p10": np.percentile(total[h - 1], 10),
                    "councils_sum_p90": np.percentile(total[h - 1], 90),
                    "england_p10": e10[0, h - 1],
                    "england_p50": e50[0, h - 1],
                    "england_p90": e90[0, h - 1],
                    "england_actual": series[england.year(year)] if year <= YEARS[-1] else np.nan,
                }
            )
    return pd.DataFrame(rows)
