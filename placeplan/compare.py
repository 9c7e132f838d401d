"""Comparing scenarios with common random numbers: paired differences and their intervals.

Scenarios run with the same seed share, replication by replication, every random
number of the sources they share (demand, exits, the list at the start…), so the
difference between two scenarios in one replication comes from what differs
between them, not from luck. Intervals of the paired differences are then far
narrower than those of independent runs (a test shows it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from placeplan import measures
from placeplan.experiment import run
from placeplan.results import HEADLINE, Results
from placeplan.scenario import Scenario

__all__ = ["Comparison", "check_comparable", "compare"]

_COLUMNS = [
    "option",
    "reference",
    "option_title",
    "reference_title",
    "census",
    "mean_option",
    "mean_reference",
    "difference",
    "ci_low",
    "ci_high",
    "p_better",
    "p_same",
    "p_worse",
]


@dataclass(frozen=True)
class Comparison:
    """Runs of several scenarios on the same seed, the first being the reference option.

    Attributes
    ----------
    results : list of Results
        One per scenario, in the order given.
    """

    results: list[Results]

    @property
    def names(self) -> list[str]:
        """Scenario names, in order."""
        return [r.scenario.name for r in self.results]

    @property
    def titles(self) -> list[str]:
        """Scenario titles (the human labels), in order."""
        return [r.scenario.title for r in self.results]

    def label(self, variable: str = HEADLINE) -> str:
        """Long name of a measure, with the reference scenario's thresholds spelled out."""
        return measures.get(variable).long_name(measures.Thresholds.of(self.results[0].scenario))

    def differences(
        self,
        variable: str = HEADLINE,
        level: float = 0.95,
        january_only: bool = True,
        lower_is_better: bool = True,
    ) -> pd.DataFrame:
        """Paired differences of each option from the first, at each (January) census.

        Parameters
        ----------
        variable : str
            The measure compared (a total: ``replicate`` × ``time``).
        level : float
            Confidence level of the intervals.
        january_only : bool
            Only the January censuses (the SEN2 snapshots).
        lower_is_better : bool
            Whether a lower value is better (waits, costs) when counting how often
            an option beats the first.

        Returns
        -------
        pandas.DataFrame
            Per option and census: ``option`` and ``reference`` (scenario names),
            ``option_title`` and ``reference_title`` (their titles), ``census``, the
            mean of each option and of the first (``mean_option``,
            ``mean_reference``) [the measure's units], the mean paired difference
            (option − first) with its ``level`` confidence interval (Student t over
            replications; ``ci_low``, ``ci_high``), and three shares of
            replications that add up to 1: ``p_better``, in which the option does
            strictly better than the first, ``p_same``, in which both give the same
            value (a tie: common random numbers make ties common, e.g. when nobody
            waits in either), and ``p_worse``, in which it does strictly worse. Ties
            are not counted as better, nor split: they are reported as ``p_same``.
        """
        base = self.results[0].dataset[variable]
        rows = []
        for other in self.results[1:]:
            values = other.dataset[variable]
            diff = (values - base).to_numpy()
            times = pd.to_datetime(base["time"].to_numpy())
            n = diff.shape[0]
            for k, when in enumerate(times):
                if january_only and when.month != 1:
                    continue
                d = diff[:, k]
                mean, sd = float(d.mean()), float(d.std(ddof=1)) if n > 1 else float("nan")
                half = _t_quantile(0.5 + level / 2, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
                better = (d < 0) if lower_is_better else (d > 0)
                worse = (d > 0) if lower_is_better else (d < 0)
                rows.append(
                    {
                        "option": other.scenario.name,
                        "reference": self.results[0].scenario.name,
                        "option_title": other.scenario.title,
                        "reference_title": self.results[0].scenario.title,
                        "census": when.date(),
                        "mean_option": float(values[:, k].mean()),
                        "mean_reference": float(base[:, k].mean()),
                        "difference": mean,
                        "ci_low": mean - half,
                        "ci_high": mean + half,
                        "p_better": float(better.mean()),
                        "p_same": float((d == 0).mean()),
                        "p_worse": float(worse.mean()),
                    }
                )
        return pd.DataFrame(rows, columns=_COLUMNS)

    def table(
        self, variable: str = HEADLINE, level: float = 0.95, lower_is_better: bool = True
    ) -> pd.DataFrame:
        """The January differences with human labels, for reports and the command line.

        Parameters
        ----------
        variable : str
            The measure compared.
        level : float
            Confidence level of the intervals.
        lower_is_better : bool
            Whether a lower value is better.

        Returns
        -------
        pandas.DataFrame
            One row per option and January census: ``option`` (the scenario's title
            and name), ``January census``, the means of option and reference and
            their difference [units], the interval as text, and P(better),
            P(same), P(worse) as percentages (text).
        """
        frame = self.differences(variable, level, True, lower_is_better)
        units = measures.get(variable).units
        pct = f"{level:.0%}"
        return pd.DataFrame(
            {
                "option": [
                    f"{t} ({n})"
                    for t, n in zip(frame["option_title"], frame["option"], strict=True)
                ],
                "January census": frame["census"].astype(str),
                f"mean, option [{units}]": frame["mean_option"].round(1),
                f"mean, reference [{units}]": frame["mean_reference"].round(1),
                f"difference [{units}]": frame["difference"].round(1),
                f"{pct} interval [{units}]": [
                    f"{a:.1f} to {b:.1f}"
                    for a, b in zip(frame["ci_low"], frame["ci_high"], strict=True)
                ],
                "P(better)": [f"{p:.0%}" for p in frame["p_better"]],
                "P(same)": [f"{p:.0%}" for p in frame["p_same"]],
                "P(worse)": [f"{p:.0%}" for p in frame["p_worse"]],
            }
        )

    def save(self, directory: str | Path, variable: str = HEADLINE) -> dict[str, Path]:
        """Write each run's folder (``NAME/``) and ``comparison.csv``, atomically."""
        from placeplan.io import atomic_write_text

        out = Path(directory)
        files = {}
        for r in self.results:
            files[r.scenario.name] = r.save(out / r.scenario.name)["results"]
        table = self.differences(variable).to_csv(index=False, float_format="%.6g")
        files["comparison"] = atomic_write_text(out / "comparison.csv", table)
        return files


def compare(
    scenarios: Sequence[Scenario | str | Path],
    replications: int = 200,
    seed: int = 0,
    **run_options,
) -> Comparison:
    """Run several scenarios on the same seed and compare them with the first.

    Parameters
    ----------
    scenarios : sequence of Scenario, str or pathlib.Path
        Two or more scenarios (objects, files or bundled names); the first is the
        reference option.
    replications : int
        Replications of each [1].
    seed : int
        The common seed: common random numbers need one.
    **run_options
        Passed to :func:`placeplan.run` (e.g. ``engine``, ``progress``).

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        Before anything runs, if fewer than two scenarios are given, two share a
        name, or they differ in designations, thresholds or snapshots.

    Examples
    --------
    >>> options = ["herts-no-further-building", "herts-baseline"]
    >>> c = pp.compare(options, 200, seed=1)  # doctest: +SKIP
    >>> c.differences()  # doctest: +SKIP
    """
    loaded = check_comparable(scenarios)
    results = [
        run(s, replications=replications, seed=seed, **{"scenario_file": file, **run_options})
        for s, file in loaded
    ]
    return Comparison(results)


def check_comparable(
    scenarios: Sequence[Scenario | str | Path],
) -> list[tuple[Scenario, Path | None]]:
    """Load the scenarios and check, before anything runs, that they can be compared.

    Pairs are taken replication by replication and snapshot by snapshot, so every
    scenario must have the same snapshots, designations and long-wait thresholds;
    each must have its own name (its run folder's).

    Raises
    ------
    InputError
        Naming the scenarios and what differs.
    """
    from placeplan.errors import InputError
    from placeplan.experiment import load_user_scenario
    from placeplan.placement.schedule import make_schedule

    if isinstance(scenarios, str | Path | Scenario) or len(scenarios) < 2:
        raise InputError("compare needs at least two scenarios")
    pairs = [(s, None) if isinstance(s, Scenario) else load_user_scenario(s) for s in scenarios]
    loaded = [s for s, _ in pairs]
    names = [s.name for s in loaded]
    for i, name in enumerate(names):
        if name in names[:i]:
            given = f"{scenarios[names.index(name)]!s} and {scenarios[i]!s}"
            raise InputError(
                f"{given}: two scenarios are called {name!r}; compare different options "
                "(each needs its own name)"
            )
    first = loaded[0]

    def snapshots(s: Scenario) -> list:
        calendar = s.calendar.build()
        return make_schedule(
            calendar, s.placement.panels, s.start, s.end, s.calendar.snapshots
        ).snapshot_dates

    reference = snapshots(first)
    for other in loaded[1:]:
        what = None
        if other.designations != first.designations:
            what = (
                f"designations differ ({', '.join(other.designations)} against "
                f"{', '.join(first.designations)})"
            )
        elif (other.calendar.long_wait_terms, other.calendar.long_wait_weeks) != (
            first.calendar.long_wait_terms,
            first.calendar.long_wait_weeks,
        ):
            what = "long-wait thresholds (calendar.long_wait_terms, long_wait_weeks) differ"
        elif snapshots(other) != reference:
            what = "snapshots differ (start, years, calendar or snapshots)"
        if what is not None:
            raise InputError(
                f"{other.name} cannot be compared with {first.name}: {what}; paired "
                "differences need the same designations, thresholds and snapshots"
            )
    return pairs


def _t_quantile(q: float, dof: int) -> float:
    """Student's t quantile (scipy.stats imported here: it costs a second at start-up)."""
    from scipy import stats

    return float(stats.t.ppf(q, dof))
