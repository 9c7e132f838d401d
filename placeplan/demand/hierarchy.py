"""New plans of every council at once: a national path plus each council's own trend.

The model, for council ``i`` and calendar year ``t`` (log new plans ``y``):

``y[i, t] = a[i] + mu[t] + b[i] (t - tbar[i]) + e[i, t]``

- ``mu[t]`` is the **national path**: the year effects every council shares (the
  surge of 2023–24 moved them all at once). Forward, it is a random walk whose
  drift is the mean of its past steps and whose step sd is theirs; its shocks are
  drawn once per year and shared by every council, so the sum of the councils'
  forecasts carries them.
- ``b[i]`` is the council's **own trend** beyond the national path [per year],
  drawn from ``N(m, tau²)`` across councils. ``tau²``, the between-council variance,
  is estimated (Paule–Mandel), never floored.
- ``e[i, t]`` is the council's **own year-to-year noise** around its trend, with a
  variance of its own: a council with a steady series has a precise trend, and
  its own data carry most of the weight.

The estimation has three steps, each with statsmodels:

1. the two-way fixed-effects regression ``y ~ C(council) + C(year)`` (OLS) gives the
   national path and each council's level;
2. each council's residuals regressed on time give its own trend ``b_hat[i]``, its
   residual variance (pooled with the median council's by ``PRIOR_DF`` degrees of
   freedom, so that five points cannot claim a perfect line) and the trend's
   sampling variance;
3. random-effects meta-analysis of the trends
   (``statsmodels.stats.meta_analysis.combine_effects``, Paule–Mandel) estimates
   ``tau²``; each council's trend is shrunk towards the mean with weight
   ``w[i] = tau² / (tau² + se[i]²)`` — the weight of its own data.

Why not one mixed model (``statsmodels`` ``MixedLM`` with a random slope per
council)? On these series it assumes one residual variance for every council, so a
steady council could not keep its own trend, and it failed to converge at every
origin tried (2021, 2023, 2025: "Hessian matrix ... not positive definite", about
7 s each). The two-stage estimator is the standard one for estimates with unequal
precisions and gives the same point estimates where the variances are equal.

Why noise around a trend rather than a random walk per council: once the national
path and each council's own trend are taken out, a council's deviations from year
to year are uncorrelated (lag-1 autocorrelation 0.08 over 2015–2024), while its
yearly changes are negatively correlated (-0.29): the mark of noise around a level,
not of persistent shocks. So a council's forecast starts from its fitted level in
the last year (:attr:`GrowthFit.anchor`), not from the last value, and its own
noise does not accumulate; the national path's shocks do.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.meta_analysis import combine_effects

from placeplan.demand.panel import YEARS, Panel

__all__ = ["PRIOR_DF", "WINDOW", "GrowthFit", "fit_growth"]

WINDOW = 7
"""Calendar years of new plans behind a fit [years]."""

PRIOR_DF = 2.0
"""Degrees of freedom of the median council's residual variance in each council's [1]."""

_MIN_YEARS = 4
"""Fewest years of positive new plans a council needs for a trend of its own."""


@dataclass(frozen=True)
class GrowthFit:
    """The hierarchical fit of new plans at one origin (arrays ``[area]``).

    Attributes
    ----------
    origin : int
        January of the origin; new plans are used up to the calendar year before.
    years : numpy.ndarray
        Calendar years used.
    national_path : numpy.ndarray
        Year effects ``mu[t]`` (log new plans, relative to the first year) [1].
    national_drift, national_drift_se : float
        Mean yearly step of the national path and its standard error [per year].
    national_step_sd : float
        Standard deviation of the national path's yearly steps: the shock all
        councils share each year [per year].
    own_trend, own_trend_raw, own_trend_se : numpy.ndarray
        The council's trend beyond the national path: shrunk, unshrunk, and the
        shrunk estimate's posterior sd [per year].
    own_weight : numpy.ndarray
        Weight of the council's own data in its trend, ``tau² / (tau² + se²)`` [1].
    own_sd : numpy.ndarray
        Standard deviation of a year's deviation from the council's trend [1, log].
    anchor : numpy.ndarray
        Fitted log new plans in the last year less the published value: where the
        forecast starts from, relative to the last value [1, log].
    growth, growth_se : numpy.ndarray
        The council's drift ``national_drift + own_trend`` and its sd (national
        drift and own trend uncertainty together) [per year].
    between_var : float
        ``tau²``: the between-council variance of own trends (Paule–Mandel) [per year²].
    trend_mean : float
        The mean own trend the shrinkage pulls towards [per year].
    councils_used : int
        Councils with a trend of their own.
    """

    origin: int
    years: np.ndarray
    national_path: np.ndarray
    national_drift: float
    national_drift_se: float
    national_step_sd: float
    own_trend: np.ndarray
    own_trend_raw: np.ndarray
    own_trend_se: np.ndarray
    own_weight: np.ndarray
    own_sd: np.ndarray
    anchor: np.ndarray
    growth: np.ndarray
    growth_se: np.ndarray
    between_var: float
    trend_mean: float
    councils_used: int


def _log_new(p: Panel, years: np.ndarray) -> np.ndarray:
    cols = years - YEARS[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(p.new[:, cols] > 0, p.new[:, cols], np.nan))


def _two_way(y: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """National path and council levels from the two-way fixed-effects OLS.

    Returns the year effects ``[year]`` (first year 0) and the fitted values
    ``[area, year]`` (NaN where the council has too few years).
    """
    rows, cols = np.nonzero(np.isfinite(y))
    frame = pd.DataFrame({"area": rows, "year": years[cols], "y": y[rows, cols]})
    area = pd.get_dummies(frame["area"], prefix="a", dtype=float)
    year = pd.get_dummies(frame["year"], prefix="t", dtype=float).iloc[:, 1:]
    design = pd.concat([area, year], axis=1)
    model = sm.OLS(frame["y"].to_numpy(), design.to_numpy()).fit()
    n_area = area.shape[1]
    path = np.concatenate([[0.0], model.params[n_area:]])
    level = np.full(y.shape[0], np.nan)
    level[np.unique(rows)] = model.params[:n_area]
    return path, level[:, None] + path[None, :]


def fit_growth(p: Panel, origin: int, window: int = WINDOW) -> GrowthFit:
    """Fit the national path and each council's own trend of new plans at an origin.

    Parameters
    ----------
    p : Panel
        Every council's SEN2 series (``panel("la")``); a panel of one area (England)
        has no between-area variance, and its own trend is its national path's.
    origin : int
        January of the origin; new plans of calendar years ``origin - window`` to
        ``origin - 1`` are used.
    window : int
        Calendar years used [years].

    Returns
    -------
    GrowthFit

    Raises
    ------
    ValueError
        If no area has new plans in at least four of the years.
    """
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _fit(p, origin, window)


def _fit(p: Panel, origin: int, window: int) -> GrowthFit:
    years = np.arange(origin - window, origin)
    years = years[(years >= YEARS[0]) & (years <= YEARS[-1])]
    y = _log_new(p, years)
    enough = np.isfinite(y).sum(axis=1) >= _MIN_YEARS
    if not enough.any():
        raise ValueError(
            f"no area has new plans in at least {_MIN_YEARS} of the calendar years "
            f"{years[0] if len(years) else origin - window}–{origin - 1}: the national "
            "path cannot be fitted (a folder holding only the newest SEN2 release lacks "
            "the earlier years: put the earlier releases' folders beside it)"
        )
    y = np.where(enough[:, None], y, np.nan)
    path, fitted = _two_way(y, years)
    resid = y - fitted
    steps = np.diff(path)
    drift = float(steps.mean())
    step_sd = float(steps.std(ddof=1)) if len(steps) > 1 else 0.0

    t = np.where(np.isfinite(resid), years[None, :], np.nan)
    tbar = np.nanmean(t, axis=1, keepdims=True) if enough.any() else t[:, :1]
    dt = t - tbar
    sxx = np.nansum(dt**2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.nansum(dt * resid, axis=1) / sxx
        line = resid - raw[:, None] * dt
        df = np.isfinite(resid).sum(axis=1) - 2.0
        s2 = np.nansum(line**2, axis=1) / df
    s2 = np.where(enough & (df > 0), s2, np.nan)
    pooled = float(np.nanmedian(s2)) if np.isfinite(s2).any() else 0.0
    s2 = (np.nan_to_num(df) * np.nan_to_num(s2) + PRIOR_DF * pooled) / (
        np.nan_to_num(df) + PRIOR_DF
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        se2 = np.where(enough, s2 / sxx, np.nan)
    ok = enough & np.isfinite(raw) & np.isfinite(se2) & (se2 > 0)
    if ok.sum() >= 3:
        meta = combine_effects(raw[ok], se2[ok], method_re="iterated")
        tau2, mean = float(meta.tau2), float(meta.mean_effect_re)
    else:
        tau2, mean = 0.0, 0.0
    weight = np.where(ok, tau2 / (tau2 + np.where(ok, se2, 1.0)), 0.0)
    own = np.where(ok, weight * raw + (1 - weight) * mean, mean)
    own_se = np.where(ok, np.sqrt(weight * np.where(ok, se2, 0.0)), np.sqrt(tau2))

    last = len(years) - 1
    # the council's level in the last year on its (shrunk) trend: its mean level
    # around the national path, plus its own trend to the last year
    level_last = np.nanmean(y - path[None, :], axis=1) + path[last]
    fitted_last = level_last + own * (years[last] - tbar[:, 0])
    anchor = np.where(np.isfinite(y[:, last]), fitted_last - y[:, last], 0.0)
    anchor = np.where(enough, anchor, 0.0)
    drift_se = step_sd / np.sqrt(max(len(steps), 1))
    return GrowthFit(
        origin=origin,
        years=years,
        national_path=path,
        national_drift=drift,
        national_drift_se=drift_se,
        national_step_sd=step_sd,
        own_trend=own,
        own_trend_raw=np.where(enough, raw, np.nan),
        own_trend_se=own_se,
        own_weight=weight,
        own_sd=np.where(enough, np.sqrt(s2), np.sqrt(pooled)),
        anchor=anchor,
        growth=drift + own,
        growth_se=np.sqrt(drift_se**2 + own_se**2),
        between_var=tau2,
        trend_mean=mean,
        councils_used=int(ok.sum()),
    )
