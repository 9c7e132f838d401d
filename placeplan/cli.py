"""The ``placeplan`` command line.

Exit codes: 0 success; 2 bad input (bad file, bad option, invalid scenario), with a
message and no traceback; 1 only for a genuine bug.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from placeplan._version import __version__
from placeplan.bundled import DEFAULT_SCENARIO, bundled_scenarios, resolve_scenario_path
from placeplan.errors import InputError

__all__ = ["main"]


class _Group(click.Group):
    """Turns :class:`~placeplan.errors.InputError` into a message and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="placeplan")
def main() -> None:
    """Special school place planning: how many children will wait, when, and how sure are we."""


@main.command()
@click.argument("scenario", required=False, default=DEFAULT_SCENARIO)
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Number of replications.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="Root seed (fresh entropy, recorded in provenance.json, if omitted).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run folder to write [default: runs/SCENARIO-NAME].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; print only the file list.")
def run(scenario: str, replications: int, seed: int | None, out: Path | None, quiet: bool) -> None:
    """Run SCENARIO (a file or a bundled name; the Hertfordshire baseline by default).

    Writes results.nc, summary.csv, provenance.json and scenario.yaml to the run
    folder and prints, for each January census, the median and 80% interval of
    children waiting longer than three terms.
    """
    from placeplan.experiment import run as run_scenario
    from placeplan.scenario import load_scenario

    path = resolve_scenario_path(scenario)
    loaded = load_scenario(path)
    out = out or Path("runs") / loaded.name
    progress = not quiet and sys.stderr.isatty()
    results = run_scenario(
        loaded, replications=replications, seed=seed, progress=progress, scenario_file=path
    )
    files = results.save(out)
    if not quiet:
        _print_headline(results)
    click.echo("Files:")
    for f in files.values():
        click.echo(f"  {f}")


def _print_headline(results) -> None:
    s = results.scenario
    prov = results.provenance
    terms = s.calendar.long_wait_terms
    click.echo(
        f"{s.title}\n"
        f"Children waiting longer than {terms} terms for a special school place, "
        f"at each January census\n"
        f"({results.replications} replications, seed {prov['seed']['given']}"
        f" / entropy {prov['seed']['entropy']}, placeplan {prov['placeplan_version']})\n"
    )
    table = results.headline()
    click.echo(f"{'census':<12}{'median':>8}{'80% interval':>16}{'P(nobody)':>12}")
    for row in table.itertuples(index=False):
        interval = f"{row.p10:.0f} – {row.p90:.0f}"
        click.echo(f"{row.census!s:<12}{row.median:>8.0f}{interval:>16}{row.p_none:>12.0%}")
    click.echo("")


@main.command()
@click.argument("files", nargs=-1, required=True)
def validate(files: tuple[str, ...]) -> None:
    """Check scenario FILES (or bundled names); report every problem with file, line and field."""
    from placeplan.errors import ScenarioError
    from placeplan.model import Model
    from placeplan.scenario import load_scenario

    failed = False
    for name in files:
        try:
            scenario = load_scenario(name)
            Model(scenario).cohort  # noqa: B018 - checks the SEN2 figures it needs exist
        except ScenarioError as exc:
            failed = True
            click.echo(str(exc), err=True)
            continue
        except InputError as exc:
            failed = True
            click.echo(f"{name}: {exc}", err=True)
            continue
        places = sum(d.places for d in scenario.placement.designations.values())
        click.echo(
            f"{name}: ok — {scenario.title}; {len(scenario.designations)} designations, "
            f"{places} places at {scenario.start}, "
            f"{len(scenario.placement.build_programme)} build projects"
        )
    if failed:
        sys.exit(2)


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the schema to this file instead of standard output.",
)
def schema(out: Path | None) -> None:
    """Print the JSON Schema of scenario files (for editor completion and checking)."""
    from placeplan.io import atomic_write_text
    from placeplan.scenario import Scenario

    text = json.dumps(Scenario.model_json_schema(), indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        click.echo(f"wrote {out}")


@main.command()
def scenarios() -> None:
    """List the bundled scenarios."""
    from placeplan.scenario import load_scenario

    for name, path in bundled_scenarios().items():
        title = load_scenario(path).title
        click.echo(f"{name:<36}{title}")


if __name__ == "__main__":  # pragma: no cover
    main()
