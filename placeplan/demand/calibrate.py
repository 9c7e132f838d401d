"""Calibrating demand on the SEN2 series of every council at once, from any origin.

At an origin year ``O`` only what was known then is used: plans each January up to
``O``, new plans made in calendar years up to ``O - 1``, and plans in special schools
each January from 2019 up to ``O``. Three parameters are fitted per council, each
with its estimation uncertainty and its year-to-year variation:

- **growth of new plans** ``g`` [per year]: the hierarchical fit of
  :mod:`placeplan.demand.hierarchy` over every council at once: a national path
  (year effects every council shares, forward a random walk whose shocks are
  shared) plus the council's own trend, shrunk by the weight its own data carry;
  the council's own noise around its trend, and the anchor (its fitted level in
  the last year, less the published value);
- **ceasing** ``c`` [per year]: from the stock identity
  ``plans[y+1] = plans[y] (1 - c) + new[y]`` over the last three years (from 2016);
  the sd of a year's deviation (``cease_noise``, half the council's own, half the
  median council's) is the run's ``demand.ceasing_noise_sd``;
- **trend of the share needing a special school** ``tau`` [per year]: the mean
  yearly change since 2019 of the log of the *need share*, ``(special + waiting) /
  plans``, where ``special`` counts plans in special schools of every type
  (including independent and non-maintained) and ``waiting`` is the waiting signal
  of :mod:`placeplan.demand.need_share` (educated elsewhere, plus awaiting
  provision up to 2022), shrunk towards the mean council (below). The share is
  modelled as a trend plus independent yearly deviations, so a deviation's sd is
  the yearly changes' sd over √2 and the trend's standard error is that sd over the
  number of years.

  Need, not placements: placements are capped by places, so where places run
  short the share of plans *placed* in special schools grows with the places, not
  with the need, and the excess shows as children educated elsewhere or awaiting
  provision. The same estimator on placements alone (``special / plans``) is kept
  as ``share_trend_placements``: it is what the calibration used to fit, and it
  forecasts the published placements series in the backtests.

Shrinkage (normal–normal empirical Bayes): each council's share trend is pulled
towards the mean council with weight ``between / (between + se²)``, the
between-council variance estimated by random-effects meta-analysis
(``statsmodels`` ``combine_effects``, Paule–Mandel), never floored.

These are pure functions over arrays ``[area, ...]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.meta_analysis import combine_effects

from placeplan.demand.hierarchy import GrowthFit, fit_growth
from placeplan.demand.panel import Panel

__all__ = ["Fit", "Shrinkage", "fit", "share_trend"]


@dataclass(frozen=True)
class Shrinkage:
    """How a set of estimates was shrunk towards the median area.

    Attributes
    ----------
    centre : float
        The random-effects mean of the unshrunk estimates [per year].
    between_var : float
        Between-area variance (Paule–Mandel) [per year²]; NaN if fewer than three
        areas have an estimate.
    weight_median : float
        Median weight of an area's own estimate, ``between / (between + se²)`` [1].
    """

    centre: float
    between_var: float
    weight_median: float


@dataclass(frozen=True)
class Fit:
    """Parameters fitted at one origin for each area (arrays ``[area]``).

    Attributes
    ----------
    origin : int
        January of the last stock used.
    growth, growth_se : numpy.ndarray
        Yearly log growth of new plans (national drift plus the council's own trend)
        and its standard error [per year].
    growth_noise : numpy.ndarray
        The national path's yearly shock (the same for every area) [per year].
    transient_sd : numpy.ndarray
        The area's own yearly deviation of log new plans around its trend [1].
    anchor : numpy.ndarray
        The area's fitted log new plans in the last year less the published [1].
    own_weight : numpy.ndarray
        Weight of the area's own data in its growth [1].
    growth_fit : GrowthFit
        The hierarchical fit behind these (:mod:`placeplan.demand.hierarchy`).
    cease, cease_se, cease_noise : numpy.ndarray
        Share of plans ceasing a year: estimate, standard error, sd of a year [per year].
    share_trend, share_trend_se, share_noise : numpy.ndarray
        Yearly change of the log need share (``(special + waiting) / plans``):
        shrunk estimate, its standard error, and the sd of a year's deviation from
        the trend [per year].
    share_trend_raw : numpy.ndarray
        The need share trend before shrinkage [per year].
    share_trend_placements, share_trend_placements_se, share_noise_placements : numpy.ndarray
        The same fitted to placements alone (``special / plans``), which places
        cap [per year].
    share_trend_placements_raw : numpy.ndarray
        The placements share trend before shrinkage [per year].
    plans0, new0 : numpy.ndarray
        Plans in January of the origin, and new plans in the year before it.
    share0, share0_placements : numpy.ndarray
        The need share and the special school (placements) share in January of
        the origin [1].
    share_shrinkage, share_shrinkage_placements : Shrinkage
        How the two share trends were shrunk.
    """

    origin: int
    growth: np.ndarray
    growth_se: np.ndarray
    growth_noise: np.ndarray
    transient_sd: np.ndarray
    anchor: np.ndarray
    own_weight: np.ndarray
    growth_fit: GrowthFit
    cease: np.ndarray
    cease_se: np.ndarray
    cease_noise: np.ndarray
    share_trend: np.ndarray
    share_trend_se: np.ndarray
    share_noise: np.ndarray
    share_trend_raw: np.ndarray
    share_trend_placements: np.ndarray
    share_trend_placements_se: np.ndarray
    share_noise_placements: np.ndarray
    share_trend_placements_raw: np.ndarray
    plans0: np.ndarray
    new0: np.ndarray
    share0: np.ndarray
    share0_placements: np.ndarray
    share_shrinkage: Shrinkage
    share_shrinkage_placements: Shrinkage


def _pooled_sd(own: np.ndarray) -> np.ndarray:
    """Half the area's own variance, half the median area's; the median where unknown."""
    pool = np.nanmedian(own) if np.isfinite(own).any() else 0.0
    return np.where(np.isfinite(own), np.sqrt(0.5 * own**2 + 0.5 * pool**2), pool)


def _shrink(raw: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray, Shrinkage]:
    """Normal–normal shrinkage of estimates towards their random-effects mean.

    Returns the shrunk estimates, their posterior standard deviations, and how.
    """
    ok = np.isfinite(raw) & np.isfinite(se) & (se > 0)
    if ok.sum() < 3:
        return raw, se, Shrinkage(np.nan, np.nan, np.nan)
    meta = combine_effects(raw[ok], se[ok] ** 2, method_re="iterated")
    between, centre = float(meta.tau2), float(meta.mean_effect_re)
    weight = between / (between + se**2)
    how = Shrinkage(centre, between, float(np.median(weight[ok])))
    return weight * raw + (1 - weight) * centre, np.sqrt(weight) * se, how


def _yearly_sd(diffs: np.ndarray) -> np.ndarray:
    counts = np.isfinite(diffs).sum(axis=1)
    out = np.full(diffs.shape[0], np.nan)
    enough = counts >= 2
    if enough.any():
        out[enough] = np.nanstd(diffs[enough], axis=1, ddof=1)
    return out


def share_trend(count: np.ndarray, plans: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unshrunk trend of the log share ``count / plans`` of each area.

    The mean of the yearly changes of the log share over the years given (gaps
    skipped), with the standard error of a trend plus independent yearly
    deviations: the yearly changes' sd (half the area's own, half the median
    area's) over the number of changes.

    Parameters
    ----------
    count : numpy.ndarray
        Children counted each January, ``[area, year]`` [children].
    plans : numpy.ndarray
        Plans each January, same shape [plans].

    Returns
    -------
    tuple of numpy.ndarray
        The trend, its standard error, and the sd of the yearly changes, each
        ``[area]`` [per year]; NaN where an area has no change.
    """
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        share = count / plans
        changes = np.diff(np.log(np.where(share > 0, share, np.nan)), axis=1)
        k = np.maximum(np.isfinite(changes).sum(axis=1), 1)
        change_sd = _pooled_sd(_yearly_sd(changes))
        trend = np.nanmean(changes, axis=1) if changes.shape[1] else np.full(len(k), np.nan)
    return trend, change_sd / k, change_sd


def fit(p: Panel, origin: int) -> Fit:
    """Fit the demand parameters of every area of a panel at an origin.

    Parameters
    ----------
    p : Panel
        SEN2 series (:func:`~placeplan.demand.panel.panel`).
    origin : int
        January of the last stock that may be used; new plans are used up to the
        calendar year ``origin - 1``.

    Returns
    -------
    Fit
    """
    if origin < 2019:
        raise ValueError("origins before 2019 have no special school series to fit")
    o = p.year(origin)
    g = fit_growth(p, origin)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        first = max(p.year(2016), o - 3)
        years = np.arange(first, o)
        ceased = (p.plans[:, years] + p.new[:, years] - p.plans[:, years + 1]) / p.plans[:, years]
        cease = np.nanmean(ceased, axis=1)
        cease_noise = _pooled_sd(_yearly_sd(ceased))
        cease_se = cease_noise / np.sqrt(np.maximum(np.isfinite(ceased).sum(axis=1), 1))

        since = slice(p.year(2019), o + 1)
        plans = p.plans[:, since]
        need_raw, need_se, need_sd = share_trend(p.need[:, since], plans)
        need_trend, need_trend_se, need_how = _shrink(need_raw, need_se)
        placed_raw, placed_se, placed_sd = share_trend(p.special[:, since], plans)
        placed_trend, placed_trend_se, placed_how = _shrink(placed_raw, placed_se)
        share0 = p.need[:, o] / p.plans[:, o]
        share0_placements = p.special[:, o] / p.plans[:, o]
    return Fit(
        origin=origin,
        growth=g.growth,
        growth_se=g.growth_se,
        growth_noise=np.full(len(g.growth), g.national_step_sd),
        transient_sd=g.own_sd,
        anchor=g.anchor,
        own_weight=g.own_weight,
        growth_fit=g,
        cease=cease,
        cease_se=cease_se,
        cease_noise=cease_noise,
        share_trend=np.nan_to_num(need_trend),
        share_trend_se=np.nan_to_num(need_trend_se),
        share_noise=need_sd / np.sqrt(2),
        share_trend_raw=need_raw,
        share_trend_placements=np.nan_to_num(placed_trend),
        share_trend_placements_se=np.nan_to_num(placed_trend_se),
        share_noise_placements=placed_sd / np.sqrt(2),
        share_trend_placements_raw=placed_raw,
        plans0=p.plans[:, o],
        new0=p.new[:, o - 1],
        share0=share0,
        share0_placements=share0_placements,
        share_shrinkage=need_how,
        share_shrinkage_placements=placed_how,
    )
