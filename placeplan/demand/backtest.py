"""Backtests of the cohort projection that runs, for every council, from past origins.

From each origin January ``O``, every council is forecast with only what was known
then: its cohort inputs from the data published up to ``O``
(:func:`~placeplan.demand.inputs.cohort_inputs` with ``known_until=O``) and the
demand parameters fitted on every council's series up to ``O``
(:func:`~placeplan.demand.calibrate.fit`). The projection is the run's own
(:mod:`placeplan.demand.projection`): new plans on the national path plus the
council's own trend, from its fitted level, with its own noise; plans by age and
need stepped by the cohort identity; shares moving by their trends. The
assumptions a calibration does not fit (damping of growth, ceasing scale, need
re-recording) are taken from a template scenario's demand section, as a run
takes them.

Draws are **joint**: the national path's yearly shocks, the uncertainty of its
drift and the quantiles of the national assumptions (damping, re-recording) are
drawn once per replication and shared by every council, so the sum of the
councils' draws is a forecast of England with the shocks councils share. Each
council's own trend, noise and ceasing scale (its ceasing is its own data) come
from its own stream.

Quantities scored (``quantity``):

- ``ehcp_plans``: plans each January;
- ``new_plans``: new plans made in a calendar year (``year`` is the calendar year);
- ``special_school``: plans in special schools of every type each January, with the
  placements share trend (places cap the published series, and its forecast
  carries that on);
- ``specialist_need``: special school plans plus the waiting signal, with the need
  share trend the runs use;
- ``need_ASD``, ``need_SEMH``, ``need_SLD``, ``need_MLD``, ``need_SLCN``: plans by
  primary need. SEN2 publishes plans by need for January 2025 only, and the
  projection's need mix at every origin is borrowed from that January, so these
  rows test the totals and the ageing of the mix, not the mix itself: they are
  flagged ``shape_from_target``;
- ``age_0-4``, ``age_5-10``, ``age_11-15``, ``age_16-19``, ``age_20-25``: plans by age
  band (published 2010–2022, 2024 and 2025).

Naive forecasts a method must beat, from the same published series up to the
origin: the last value (``naive_last``), the last year's growth continued
(``naive_trend``), and the mean yearly log growth over the last 2, 3 and 5 years
continued (``naive_mean2``, ``naive_mean3``, ``naive_mean5``).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from placeplan import sen2
from placeplan.demand.calibrate import Fit, fit
from placeplan.demand.inputs import cohort_inputs
from placeplan.demand.panel import YEARS, Panel
from placeplan.demand.projection import new_plans_log_factor, project_plans, share_path
from placeplan.scenario import NEEDS, Uncertain

__all__ = [
    "BAND_AGES",
    "NAIVE",
    "NEED_QUANTITIES",
    "Assumptions",
    "backtest",
    "england_check",
    "forecast_draws",
    "score",
    "skill",
]

NEED_QUANTITIES = ("ASD", "SEMH", "SLD", "MLD", "SLCN")
"""Primary needs whose plans are scored."""

BAND_AGES = {
    "0-4": (0, 4),
    "5-10": (5, 10),
    "11-15": (11, 15),
    "16-19": (16, 19),
    "20-25": (20, 25),
}
"""SEN2 age bands (:data:`placeplan.sen2.AGE_BANDS`, in order) and their ages."""

NAIVE = ("naive_last", "naive_trend", "naive_mean2", "naive_mean3", "naive_mean5")
"""Naive forecasts scored beside the median."""

TOTALS = ("ehcp_plans", "new_plans", "special_school", "specialist_need")
"""Quantities with a published series every year."""


@dataclass(frozen=True)
class Assumptions:
    """The assumptions a calibration does not fit, as a run takes them.

    Attributes
    ----------
    damping, ceasing_scale, need_recoding : Uncertain
        As ``demand.new_plans_growth_damping``, ``demand.ceasing_scale`` and
        ``demand.need_recoding`` of a scenario.
    source : str
        Where they come from.
    """

    damping: Uncertain
    ceasing_scale: Uncertain
    need_recoding: Uncertain
    source: str

    @classmethod
    def of(cls, demand: Mapping[str, object] | None, source: str) -> Assumptions:
        """From a scenario's demand section (a mapping of its YAML); 1 where absent."""
        d = demand or {}

        def get(key: str) -> Uncertain:
            value = d.get(key, 1.0)
            return value if isinstance(value, Uncertain) else Uncertain.model_validate(value)

        return cls(
            get("new_plans_growth_damping"),
            get("ceasing_scale"),
            get("need_recoding"),
            source,
        )


def _band_series(t: sen2.SEN2Tables, codes: np.ndarray) -> dict[str, np.ndarray]:
    """Published plans by age band ``[area, year]`` (NaN where not published)."""
    frame = t.plans_by_age_band
    frame = frame[frame["level"] == "la"]
    out = {}
    for label, band in zip(sen2.AGE_BANDS, BAND_AGES, strict=True):
        part = frame[frame["age_band"] == label]
        table = part.pivot_table(index="code", columns="year", values="plans", aggfunc="sum")
        table = table.reindex(index=codes, columns=YEARS)
        out[f"age_{band}"] = table.to_numpy(dtype=float, na_value=np.nan)
    return out


def _need_series(t: sen2.SEN2Tables, codes: np.ndarray) -> dict[str, np.ndarray]:
    """Published plans by primary need ``[area, year]`` (January 2025 only)."""
    frame = t.need_by_age
    frame = frame[(frame["level"] == "la") & frame["age"].notna()]
    table = frame.pivot_table(index="code", columns=["need", "year"], values="plans", aggfunc="sum")
    out = {}
    for need in NEED_QUANTITIES:
        series = np.full((len(codes), len(YEARS)), np.nan)
        if need in table.columns.get_level_values(0):
            part = table[need].reindex(index=codes, columns=YEARS)
            series = part.to_numpy(dtype=float, na_value=np.nan)
        out[f"need_{need}"] = series
    return out


def published(p: Panel, t: sen2.SEN2Tables) -> dict[str, np.ndarray]:
    """Every scored quantity's published series, ``[area, year]`` on :data:`YEARS`."""
    return {
        "ehcp_plans": p.plans,
        "new_plans": p.new,
        "special_school": p.special,
        "specialist_need": p.need,
        **_need_series(t, p.codes),
        **_band_series(t, p.codes),
    }


def _area_tables(t: sen2.SEN2Tables, code: str) -> sen2.SEN2Tables:
    """One council's tables out of all areas' (as :func:`placeplan.sen2.load` filters them).

    The cohort inputs of each council come from the same tables as the panel, so a
    backtest on a newer release (``--sen2-dir``) reads that release throughout.
    """
    if t.code == code:
        return t
    frames = {
        name: (
            frame
            if name == "releases"
            else frame[(frame["code"] == code).fillna(False).astype(bool)].reset_index(drop=True)
        )
        for name, frame in t.tables().items()
    }
    names = t.areas.loc[t.areas["code"] == code, "name"]
    return dataclasses.replace(
        t, **frames, code=code, name=str(names.iloc[0]) if len(names) else code
    )


def _quantiles(x: Uncertain, u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The quantiles of an assumption at each of ``u`` (as a run draws it)."""
    return np.array([x.ppf(float(v), lo, hi) for v in u])


def _normal(rng: np.random.Generator, shape: tuple[int, ...], sd: float) -> np.ndarray:
    return rng.standard_normal(shape) * (sd if np.isfinite(sd) else 0.0)


def forecast_draws(
    p: Panel,
    origin: int,
    horizon: int,
    replications: int,
    seed: int,
    assumptions: Assumptions,
    tables: sen2.SEN2Tables | None = None,
    areas: np.ndarray | None = None,
    fitted: Fit | None = None,
) -> dict[str, np.ndarray]:
    """Joint draws of every council's cohort projection from one origin.

    Parameters
    ----------
    p : Panel
        Every council's series (the fit uses all of them).
    origin : int
        January of the origin (2020–2024).
    horizon : int
        Years ahead [years].
    replications : int
        Draws [1].
    seed : int
        Root seed: the shared draws come from stream ``(origin, 0)``, council ``i``'s
        own from ``(origin, 1, i)``.
    assumptions : Assumptions
        The assumptions the calibration does not fit.
    tables : placeplan.sen2.SEN2Tables, optional
        All areas' SEN2 tables (the shipped extract if omitted).
    areas : numpy.ndarray, optional
        Indices of the councils to project (all by default); the fit still uses all.
    fitted : Fit, optional
        The fit at the origin, if already made.

    Returns
    -------
    dict
        Per quantity, ``[area, horizon, replication]`` [plans]; NaN for councils not
        projected or whose inputs SEN2 cannot give at the origin. ``new_plans`` at
        horizon ``h`` is calendar year ``origin + h - 1``.
    """
    t = tables if tables is not None else sen2.load()
    f = fitted if fitted is not None else fit(p, origin)
    g = f.growth_fit
    n, r = len(p.codes), replications
    shared = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(origin, 0)))
    total = horizon + 1  # years of new plans after the last published, at most
    national = _normal(shared, (r, total), g.national_step_sd)
    drift = _normal(shared, (r,), g.national_drift_se)
    u = shared.random((2, r))
    damping = _quantiles(assumptions.damping, u[0], 1e-6, 1.0)
    recoding = _quantiles(assumptions.need_recoding, u[1], 0.0, 1.0)
    names = (*TOTALS, *(f"need_{x}" for x in NEED_QUANTITIES), *(f"age_{b}" for b in BAND_AGES))
    out = {q: np.full((n, horizon, r), np.nan) for q in names}
    need_index = [NEEDS.index(x) for x in NEED_QUANTITIES]
    years = np.arange(horizon + 1)
    o = p.year(origin)
    for i in range(n) if areas is None else areas:
        if not (np.isfinite(f.growth[i]) and np.isfinite(f.plans0[i])):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                inputs = cohort_inputs(
                    str(p.codes[i]), origin, _area_tables(t, str(p.codes[i])), known_until=origin
                )
        except (ValueError, KeyError):
            continue
        own = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(origin, 1, int(i))))
        own_trend = _normal(own, (r,), g.own_trend_se[i])
        ceasing = _quantiles(assumptions.ceasing_scale, own.random(r), 0.0, 5.0)
        transient = _normal(own, (r, total), f.transient_sd[i])
        growth = g.national_drift + g.own_trend[i] + drift + own_trend
        ahead = (origin - inputs.new_plans_year) + np.arange(horizon)
        k = int(ahead[-1])
        log_factor = new_plans_log_factor(
            ahead, growth, damping, national[:, :k], transient[:, :k], f.anchor[i]
        )
        cease = np.clip(inputs.cease_rate[None, :] * ceasing[:, None], 0.0, 1.0)
        deviation = _normal(own, (r, horizon), f.cease_noise[i])
        stock, new = project_plans(inputs, log_factor, cease, recoding, None, deviation)
        ahead_stock = stock[:, 1:]
        out["ehcp_plans"][i] = ahead_stock.sum(axis=(-1, -2)).T
        out["new_plans"][i] = new.sum(axis=(-1, -2)).T
        out["special_school"][i] = _shared_quantity(
            stock,
            inputs.special_share,
            (f.share_trend_placements[i], f.share_trend_placements_se[i]),
            f.share_noise_placements[i],
            own,
            years,
        )
        need0 = p.need[i, o] / p.special[i, o] if p.special[i, o] > 0 else np.nan
        out["specialist_need"][i] = _shared_quantity(
            stock,
            inputs.special_share * need0,
            (f.share_trend[i], f.share_trend_se[i]),
            f.share_noise[i],
            own,
            years,
        )
        by_need = ahead_stock.sum(axis=-2)
        for name, j in zip(NEED_QUANTITIES, need_index, strict=True):
            out[f"need_{name}"][i] = by_need[..., j].T
        by_age = ahead_stock.sum(axis=-1)
        for band, (lo, hi) in BAND_AGES.items():
            out[f"age_{band}"][i] = by_age[..., lo : hi + 1].sum(axis=-1).T
    return out


def _shared_quantity(
    stock: np.ndarray,
    share0: np.ndarray,
    trend: tuple[float, float],
    noise_sd: float,
    rng: np.random.Generator,
    years: np.ndarray,
) -> np.ndarray:
    """Published plans × share: the share moving by a trend drawn per replication.

    ``trend`` is the trend's estimate and standard error [per year]. The published
    share also deviates from its trend each year (sd ``noise_sd``, on the log
    scale): the run's need path does not carry that deviation, but a forecast of the
    published figure must, so it is drawn here, once per year and replication.

    Returns
    -------
    numpy.ndarray
        ``[horizon, replication]`` [plans].
    """
    r = stock.shape[0]
    drawn = trend[0] + _normal(rng, (r,), trend[1])
    share = share_path(stock, np.clip(np.nan_to_num(share0), 0.0, 1.0), drawn, years)
    total = (stock * share)[:, 1:].sum(axis=(-1, -2))
    deviation = np.exp(_normal(rng, total.shape, noise_sd))
    return (total * deviation).T


def _percentiles(draws: np.ndarray, q: list[float]) -> np.ndarray:
    """Percentiles over the last axis; NaN (without a warning) where all draws are NaN."""
    out = np.full((len(q), *draws.shape[:-1]), np.nan)
    ok = np.isfinite(draws).all(axis=-1)
    if ok.any():
        out[:, ok] = np.percentile(draws[ok], q, axis=-1)
    return out


def _naive(series: np.ndarray, last_year: int, steps: int) -> dict[str, np.ndarray]:
    """Naive forecasts ``steps`` years after ``last_year`` from a series ``[area, year]``.

    The last value is the latest published at or before ``last_year``; growth rates
    are yearly log growths between published years (a gap counts its years): the mean
    over ``w`` years runs from the latest published year at least ``w`` years before
    the last (or the first published, if later) to the last.
    """
    upto = series[:, : last_year - YEARS[0] + 1]
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        logs = np.log(np.where(upto > 0, upto, np.nan))
        idx = np.where(np.isfinite(logs), np.arange(upto.shape[1]), -1)
        last_i = idx.max(axis=1)
        rows = np.arange(len(series))
        last = np.where(last_i >= 0, upto[rows, np.maximum(last_i, 0)], np.nan)
        gap = (last_year - YEARS[0]) - last_i

        first_i = np.where(np.isfinite(logs), np.arange(upto.shape[1]), upto.shape[1]).min(axis=1)
        latest = np.maximum.accumulate(idx, axis=1)  # latest published index up to each

        def mean_growth(window: int) -> np.ndarray:
            # from the latest published year at least `window` years before the last
            # (so a gap such as January 2023's age bands is bridged, its years counted),
            # or from the first published if there are fewer years
            target = last_i - window
            before = latest[rows, np.clip(target, 0, upto.shape[1] - 1)]
            start = np.where((target >= 0) & (before >= 0), before, first_i)
            span = last_i - start
            first = logs[rows, np.clip(start, 0, upto.shape[1] - 1)]
            return np.where(span > 0, (logs[rows, np.maximum(last_i, 0)] - first) / span, np.nan)

        out = {"naive_last": last}
        for name, window in (("naive_trend", 1), ("naive_mean2", 2), ("naive_mean3", 3)):
            out[name] = last * np.exp(mean_growth(window) * (steps + gap))
        out["naive_mean5"] = last * np.exp(mean_growth(5) * (steps + gap))
    return out


def backtest(
    p: Panel,
    origins: Iterable[int],
    assumptions: Assumptions,
    horizon: int = 3,
    replications: int = 1000,
    seed: int = 0,
    tables: sen2.SEN2Tables | None = None,
    areas: np.ndarray | None = None,
    keep_draws: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[int, dict[str, np.ndarray]]]:
    """Forecast every council from each origin and set the forecasts beside what happened.

    Parameters
    ----------
    p : Panel
        Every council's series.
    origins : iterable of int
        Januaries to forecast from (2020–2024).
    assumptions : Assumptions
        The assumptions a calibration does not fit.
    horizon : int
        Years ahead, 1 to ``horizon`` [years].
    replications : int
        Draws behind each interval [1].
    seed : int
        Root seed.
    tables : placeplan.sen2.SEN2Tables, optional
        All areas' SEN2 tables (the shipped extract if omitted).
    areas : numpy.ndarray, optional
        Indices of the councils to forecast (all by default).
    keep_draws : bool
        Also return the draws of each origin (for :func:`england_check`).

    Returns
    -------
    pandas.DataFrame
        One row per council, origin, horizon and quantity: ``actual`` (NaN where not
        published), ``p10``/``p50``/``p90``, the naive forecasts of :data:`NAIVE`, and
        ``shape_from_target`` (True where the projection's shape at the origin was
        borrowed from the year scored). With ``keep_draws``, also the draws by origin.
    """
    t = tables if tables is not None else sen2.load()
    series = published(p, t)
    frames, kept = [], {}
    chosen = np.arange(len(p.codes)) if areas is None else np.asarray(areas)
    for origin in origins:
        draws = forecast_draws(p, origin, horizon, replications, seed, assumptions, t, chosen)
        if keep_draws:
            kept[origin] = draws
        for quantity, values in draws.items():
            q10, q50, q90 = _percentiles(values[chosen], [10, 50, 90])
            s = series[quantity][chosen]
            calendar = quantity == "new_plans"
            last_year = origin - 1 if calendar else origin
            for h in range(1, horizon + 1):
                year = last_year + h
                actual = s[:, year - YEARS[0]] if year <= YEARS[-1] else np.full(len(s), np.nan)
                naive = _naive(s, last_year, h)
                frames.append(
                    pd.DataFrame(
                        {
                            "council_code": p.codes[chosen],
                            "council": p.names[chosen],
                            "origin": origin,
                            "horizon": h,
                            "year": year,
                            "quantity": quantity,
                            "actual": actual,
                            "p10": q10[:, h - 1],
                            "p50": q50[:, h - 1],
                            "p90": q90[:, h - 1],
                            **naive,
                            "shape_from_target": quantity.startswith("need_"),
                        }
                    )
                )
    table = pd.concat(frames, ignore_index=True)
    return (table, kept) if keep_draws else table


def score(
    table: pd.DataFrame,
    by: tuple[str, ...] = ("quantity", "horizon"),
    naive_required: bool = True,
) -> pd.DataFrame:
    """Coverage of the 80% interval and mean absolute percentage errors [%].

    Rows without an actual, a forecast or (with ``naive_required``) every naive
    forecast are left out, so the median and the naive forecasts are scored on
    the same rows.

    Returns
    -------
    pandas.DataFrame
        ``n``, ``coverage_80`` (share of actuals within ``[p10, p90]``),
        ``mape_p50`` and ``mape_<naive>`` for each of :data:`NAIVE`, ``best_naive``
        (the naive forecast with the least error), ``mape_best_naive`` and
        ``ratio`` (``mape_p50 / mape_best_naive``).
    """
    need = ["actual", "p10", "p50", "p90", *(NAIVE if naive_required else ())]
    t = table.dropna(subset=need)
    t = t[t["actual"] > 0]
    methods = ("p50", *NAIVE)
    ape = {m: (t[m] - t["actual"]).abs() / t["actual"] * 100 for m in methods}
    t = t.assign(
        covered=(t["actual"] >= t["p10"]) & (t["actual"] <= t["p90"]),
        **{f"ape_{m}": v for m, v in ape.items()},
    )
    grouped = t.groupby(list(by)) if by else t.groupby(lambda _: "all")
    out = grouped.agg(
        n=("covered", "size"),
        coverage_80=("covered", "mean"),
        **{f"mape_{m}": (f"ape_{m}", "mean") for m in methods},
    )
    naive = out[[f"mape_{m}" for m in NAIVE]]
    known = naive.notna().any(axis=1)
    best = naive.fillna(np.inf).idxmin(axis=1).str.removeprefix("mape_")
    out["best_naive"] = best.where(known, "")
    out["mape_best_naive"] = naive.min(axis=1)
    out["ratio"] = out["mape_p50"] / out["mape_best_naive"]
    return out


def skill(table: pd.DataFrame, quantities: tuple[str, ...] = ("ehcp_plans", "special_school")):
    """The skill targets: MAPE of the median against the best naive forecast.

    The best naive forecast is chosen once per quantity, over every origin and
    horizon pooled (a sceptical analyst picks one method, not the best in
    hindsight at each horizon); the ratio is then reported per horizon too.

    Returns
    -------
    pandas.DataFrame
        Per quantity and horizon (and ``all``): ``mape_p50``, the best naive
        forecast's name and MAPE, and their ratio.
    """
    rows = []
    for quantity in quantities:
        part = table[table["quantity"] == quantity]
        pooled = score(part, by=())
        best = pooled["best_naive"].iloc[0]
        by_h = score(part, by=("horizon",))
        for label, frame in (("all", pooled), *((h, by_h.loc[[h]]) for h in by_h.index)):
            rows.append(
                {
                    "quantity": quantity,
                    "horizon": label,
                    "n": int(frame["n"].iloc[0]),
                    "mape_p50": float(frame["mape_p50"].iloc[0]),
                    "best_naive": best,
                    "mape_best_naive": float(frame[f"mape_{best}"].iloc[0]),
                    "ratio": float(frame["mape_p50"].iloc[0] / frame[f"mape_{best}"].iloc[0]),
                }
            )
    return pd.DataFrame(rows)


def england_check(
    councils: Panel,
    england: Panel,
    draws: Mapping[int, Mapping[str, np.ndarray]],
    quantities: tuple[str, ...] = ("ehcp_plans", "new_plans", "special_school"),
) -> pd.DataFrame:
    """The sum of the councils' joint draws beside England's published figure.

    Each year, the councils summed are those with a forecast from the origin and a
    published figure that year; England's figure is compared on the same councils
    (the sum of their published figures). So a council formed after the origin
    (Cumberland, 2023), one gone since (Cumbria), and a figure SEN2 suppressed (a
    council's special school placements of one January) are left out of both sides
    rather than making the year incomparable; ``share_of_england`` says how much of
    England's figure the comparison covers.

    Parameters
    ----------
    councils : Panel
        Every council's series (``panel("la")``), in the order of the draws.
    england : Panel
        England's series (``panel("national")``).
    draws : mapping
        Draws of every council by origin (``backtest(..., keep_draws=True)``).
    quantities : tuple of str
        Quantities to sum.

    Returns
    -------
    pandas.DataFrame
        Per quantity, origin and horizon: councils summed, the sum's p10/p50/p90 [plans],
        the comparable England figure (``england_actual``, the councils' published
        figures summed) and England's own (``england``), the share of England's figure
        compared, whether the comparable figure is covered, and the median's error [%].
    """
    rows = []
    for origin, by_quantity in draws.items():
        for quantity in quantities:
            values = by_quantity[quantity]
            ok = np.isfinite(values).all(axis=(1, 2))
            local = councils.new if quantity == "new_plans" else councils.series(quantity)
            national = (england.new if quantity == "new_plans" else england.series(quantity))[0]
            for h in range(1, values.shape[1] + 1):
                year = (origin - 1 if quantity == "new_plans" else origin) + h
                if year > YEARS[-1]:
                    continue
                column = year - YEARS[0]
                summed = ok & np.isfinite(local[:, column])
                if not summed.any() or not np.isfinite(national[column]):
                    continue
                total = values[summed, h - 1].sum(axis=0)
                actual = float(local[summed, column].sum())
                p10, p50, p90 = np.percentile(total, [10, 50, 90])
                rows.append(
                    {
                        "quantity": quantity,
                        "origin": origin,
                        "horizon": h,
                        "year": year,
                        "councils": int(summed.sum()),
                        "p10": p10,
                        "p50": p50,
                        "p90": p90,
                        "england_actual": actual,
                        "england": float(national[column]),
                        "share_of_england": actual / float(national[column]),
                        "covered": bool(p10 <= actual <= p90),
                        "error_pct": (p50 - actual) / actual * 100,
                    }
                )
    return pd.DataFrame(rows)
