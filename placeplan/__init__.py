"""placeplan: special school place planning for English councils.

A cohort projection of EHC plans by age × primary need, calibrated on the SEN2
statistics, feeds a discrete-event model of the referral queue for special
school places, run as Monte Carlo replications.

Examples
--------
>>> import placeplan as pp
>>> scenario = pp.load_scenario("herts-baseline")
>>> results = pp.run(scenario, replications=20, seed=2025)
>>> results.headline()  # doctest: +SKIP

"""

from placeplan import observed, sen2
from placeplan._version import __version__
from placeplan.bundled import bundled_scenarios
from placeplan.calendar import Term, TermCalendar
from placeplan.compare import Comparison, compare
from placeplan.errors import InputError, ScenarioError
from placeplan.experiment import run
from placeplan.results import Results, open_results
from placeplan.scenario import Scenario, load_scenario
from placeplan.sensitivity import Sensitivity, sensitivity

__all__ = [
    "Comparison",
    "InputError",
    "Results",
    "Scenario",
    "ScenarioError",
    "Sensitivity",
    "Term",
    "TermCalendar",
    "__version__",
    "bundled_scenarios",
    "compare",
    "example",
    "load_scenario",
    "observed",
    "open_results",
    "run",
    "sen2",
    "sensitivity",
]


def example(name: str = "herts-baseline") -> Scenario:
    """A bundled scenario, ready to run (the Hertfordshire baseline by default)."""
    return load_scenario(name)
