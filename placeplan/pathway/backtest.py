"""Backtests of the pathway calibration: forecasts from past origins beside SEN2.

From each origin year ``O`` every council's pathway is calibrated on its SEN2
series up to ``O`` only (:func:`placeplan.pathway.calibrate.fit_pathway`) and run
forward by the engine the fit uses, its requests growing as fitted and its staff
following its requests, as they did in the fit. Uncertainty: ``draws`` runs (one
replication each), each with the growth, the outcome shares, the two capacities
and the assessment delay drawn from their fitted uncertainty (normal; capacities
and delay log-normal).

Quantities scored: ``plans_issued`` [plans] and ``pct_within_20_weeks`` [%] in the
calendar years ``O + 1`` to ``O + horizon`` (at most the last year published).

Naive forecasts, from what was published up to ``O`` only:

- ``naive_last``: the council's value in ``O`` (persistence);
- ``naive_national``: the council's value in ``O`` moved by England's last change
  (``O - 1`` to ``O``), carried on each year: the ratio for plans issued, the
  difference in points for the % within 20 weeks (clipped to 0-100).

Contains public sector information licensed under the Open Government Licence v3.0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from placeplan.errors import InputError
from placeplan.pathway.calibrate import (
    _GROUPS,
    STAGE_ASSUMPTIONS,
    PathwayFit,
    fit_pathway,
)
from placeplan.pathway.engine_fit import prepare
from placeplan.pathway.observed import COLUMNS

__all__ = ["NAIVE", "QUANTITIES", "backtest", "forecast", "score"]

QUANTITIES: tuple[str, ...] = ("plans_issued", "pct_within_20_weeks")
NAIVE: tuple[str, ...] = ("naive_last", "naive_national")
ENGLAND = "E92000001"


def _series(panel: pd.DataFrame, code: str, until: int) -> pd.DataFrame:
    """One area's rows of a :func:`~placeplan.pathway.observed.pathway_panel` up to ``until``."""
    rows = panel[(panel["code"] == code) & (panel["year"] <= until)]
    out = rows.set_index("year").sort_index()[list(COLUMNS)]
    if len(rows):
        out.attrs.update(code=code, name=str(rows["name"].iloc[0]))
    return out


def forecast(
    fit: PathwayFit, years: np.ndarray, draws: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Draws of the fitted pathway's plans issued and % within 20 weeks, ``[draw, year]``.

    Each draw is one replication of the engine, from empty at the fit's warm-up, with
    the published requests to the origin and the drawn growth after it, the drawn
    outcome shares, capacities (log-normal) and assessment delay (log-normal), staff
    following requests as in the fit. Draw 0 is the central one (every parameter at
    its estimate).
    """
    sim_years = np.arange(min(fit.requests_used), int(years[-1]) + 1)
    base = np.array([fit.requests_used.get(int(y), np.nan) for y in sim_years])
    future = sim_years > fit.until
    out = {q: np.zeros((draws, len(years))) for q in QUANTITIES}
    pick = np.isin(sim_years, years)

    def lognormal(value: float, se: float, central: bool) -> float:
        sd = math.log1p(se / value) if value > 0 else 0.0
        return value if central else value * math.exp(rng.normal(0.0, sd))

    for d in range(draws):
        central = d == 0
        g = fit.growth if central else rng.normal(fit.growth, fit.growth_se)
        req = base.copy()
        req[future] = fit.per_year * np.exp(g * (sim_years[future] - fit.until))
        shares = []
        for share in (fit.withdrawn, fit.assess, fit.issue):
            value = share.mean if central else rng.normal(share.mean, share.sd)
            shares.append(min(max(value, 0.0), 1.0))
        cap = {k: lognormal(fit.capacity[k], fit.capacity_se[k], central) for k in _GROUPS}
        delay = lognormal(fit.delay_weeks, fit.delay_se, central)
        seed = int(rng.integers(2**31))
        run = prepare(sim_years, req, shares, STAGE_ASSUMPTIONS, _GROUPS, replications=1, seed=seed)
        y, _ = run.run(cap, delay)
        for q in QUANTITIES:
            out[q][d] = y[q][pick]
    return out


def _value(series: pd.DataFrame, quantity: str, year: int) -> float:
    """A published value, NaN if not published."""
    value = series[quantity].get(year, None) if quantity in series else None
    return float(value) if value is not None and pd.notna(value) else np.nan


def _naive(
    council: pd.DataFrame, england: pd.DataFrame, origin: int, quantity: str, horizon: int
) -> dict[str, float]:
    last = _value(council, quantity, origin)
    n_now = _value(england, quantity, origin)
    n_before = _value(england, quantity, origin - 1)
    if quantity == "plans_issued":
        national = last * (n_now / n_before) ** horizon
    else:
        national = min(max(last + horizon * (n_now - n_before), 0.0), 100.0)
    return {"naive_last": last, "naive_national": national}


def backtest(
    panel: pd.DataFrame,
    origins: Iterable[int] = (2021, 2022, 2023),
    *,
    horizon: int = 3,
    draws: int = 40,
    seed: int = 0,
    codes: Iterable[str] | None = None,
    last_year: int | None = None,
    replications: int | None = None,
) -> pd.DataFrame:
    """Forecast every council's pathway from past origins, beside what SEN2 published.

    Parameters
    ----------
    panel : pandas.DataFrame
        :func:`placeplan.pathway.observed.pathway_panel`.
    origins : iterable of int
        Last calendar years of data used.
    horizon : int
        Years forecast after each origin (those published).
    draws : int
        Runs behind each interval (draw 0 central).
    seed : int
        Seed of the draws (each council and origin its own stream).
    codes : iterable of str, optional
        Councils (ONS codes) to score; every council if omitted.
    last_year : int, optional
        Last year published [default: the panel's last].
    replications : int, optional
        Engine replications behind each evaluation of the fits
        (:data:`placeplan.pathway.engine_fit.REPLICATIONS` if omitted).

    Returns
    -------
    pandas.DataFrame
        One row per council, origin, year and quantity: ``code, name, origin, year,
        horizon, quantity, observed, central, p10, p50, p90, naive_last,
        naive_national``, and ``status`` (``"ok"`` or why the council was not fitted).
    """
    last_year = int(panel["year"].max()) if last_year is None else int(last_year)
    la = panel[panel["level"] == "la"]
    chosen = sorted(set(la["code"])) if codes is None else list(dict.fromkeys(codes))
    rows = []
    for origin in sorted(set(origins)):
        years = np.arange(origin + 1, min(origin + horizon, last_year) + 1)
        if not len(years):
            continue
        england = _series(panel, ENGLAND, origin)
        for k, code in enumerate(chosen):
            known = _series(panel, code, origin)
            observed = _series(panel, code, last_year)
            name = known.attrs.get("name", code)
            rng = np.random.default_rng([seed, origin, k])
            status = "ok"
            try:
                fit = (
                    fit_pathway(known, origin, growth_pool_sd=None)
                    if replications is None
                    else fit_pathway(known, origin, growth_pool_sd=None, replications=replications)
                )
                draws_ = forecast(fit, years, draws, rng)
            except InputError as exc:
                status, draws_ = str(exc), None
            for q in QUANTITIES:
                for i, year in enumerate(years):
                    h = int(year - origin)
                    value = _value(observed, q, int(year))
                    row = {
                        "code": code,
                        "name": name,
                        "origin": origin,
                        "year": int(year),
                        "horizon": h,
                        "quantity": q,
                        "observed": value,
                        **_naive(known, england, origin, q, h),
                        "status": status,
                    }
                    if draws_ is not None:
                        v = draws_[q][:, i]
                        row |= {
                            "central": float(v[0]),
                            "p10": float(np.quantile(v, 0.1)),
                            "p50": float(np.quantile(v, 0.5)),
                            "p90": float(np.quantile(v, 0.9)),
                        }
                    else:
                        row |= {"central": np.nan, "p10": np.nan, "p50": np.nan, "p90": np.nan}
                    rows.append(row)
    columns = [
        "code",
        "name",
        "origin",
        "year",
        "horizon",
        "quantity",
        "observed",
        "central",
        "p10",
        "p50",
        "p90",
        "naive_last",
        "naive_national",
        "status",
    ]
    return pd.DataFrame(rows, columns=columns)


def score(table: pd.DataFrame) -> pd.DataFrame:
    """MAE of the median and of each naive forecast, coverage of the 80% interval.

    Scored on the rows where the observed value, the forecast and every naive
    forecast are known (the same rows for all), by quantity and horizon, and by
    quantity over every horizon (``horizon`` ``"all"``).

    Returns
    -------
    pandas.DataFrame
        ``quantity, horizon, n, mae_p50, mae_naive_last, mae_naive_national,
        ratio_last, ratio_national`` (ratio: the model's MAE over the naive's; below
        1 the model is the better), ``coverage_80`` [1].
    """
    ok = table.dropna(subset=["observed", "p50", *NAIVE])
    out = []
    groups = [(q, h, g) for (q, h), g in ok.groupby(["quantity", "horizon"])]
    groups += [(q, "all", g) for q, g in ok.groupby("quantity")]
    for quantity, horizon, g in groups:
        err = (g["p50"] - g["observed"]).abs().mean()
        naive = {n: (g[n] - g["observed"]).abs().mean() for n in NAIVE}
        inside = ((g["observed"] >= g["p10"]) & (g["observed"] <= g["p90"])).mean()
        out.append(
            {
                "quantity": quantity,
                "horizon": str(horizon),
                "n": len(g),
                "mae_p50": err,
                "mae_naive_last": naive["naive_last"],
                "mae_naive_national": naive["naive_national"],
                "ratio_last": err / naive["naive_last"],
                "ratio_national": err / naive["naive_national"],
                "coverage_80": inside,
            }
        )
    return pd.DataFrame(out)
