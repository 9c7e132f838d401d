"""The ``placeplan`` command line.

Exit codes: 0 success; 2 bad input (bad file, bad option, invalid scenario), with a
message and no traceback; 1 only for a genuine bug.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import click
import yaml

from placeplan import sen2
from placeplan._version import __version__
from placeplan.bundled import DEFAULT_SCENARIO, bundled_scenarios
from placeplan.cli_params import (
    Fraction,
    InFile,
    OutPath,
    Seconds,
    check_output,
    reading_sen2,
    writing,
)
from placeplan.errors import InputError
from placeplan.scenario import LAST_BASE_YEAR

__all__ = ["main"]


MAX_REPLICATIONS = 100_000
"""Most replications -n may ask for (as :data:`placeplan.experiment.MAX_REPLICATIONS`)."""

_WORKERS = click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Worker processes; the same seed gives the same numbers however many.",
)


_SCORED_COUNCILS = click.option(
    "--council",
    "councils",
    multiple=True,
    help="A council (name or ONS code) to score; repeat for several.",
)
_ALL_COUNCILS = click.option("--all", "all_councils", is_flag=True, help="Score every council.")
_OVERWRITE = click.option(
    "--overwrite",
    is_flag=True,
    help="Replace a run folder even if a run of another scenario (another name or "
    "council) wrote it.",
)

_DASK = click.option(
    "--dask",
    "dask",
    is_flag=False,
    flag_value="local",
    default=None,
    help="Run on dask.distributed: a local cluster, or the scheduler ADDRESS given.",
)

_EXTENDS = click.option(
    "--allow-extends-anywhere",
    "allow_extends_anywhere",
    is_flag=True,
    help="Let `extends` name a file outside the scenario's folder (by default only bundled "
    "scenarios and files in the scenario's folder or below it).",
)


class _Group(click.Group):
    """The exit-code contract, in one place.

    :class:`~placeplan.errors.InputError` (bad files, bad options, outputs that
    cannot be written) becomes ``error: MESSAGE`` and exit code 2; an interrupt
    (Ctrl-C) a one-line note and exit code 130. Click reports bad options itself
    with exit code 2. Anything else is a bug: it keeps its traceback and exit 1.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing half-written was left under a final name", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="placeplan")
def main() -> None:
    """Special school place planning: how many children will wait, when, and how sure are we."""


@main.command()
@click.argument("scenario", required=False, default=DEFAULT_SCENARIO)
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(1, MAX_REPLICATIONS),
    default=200,
    show_default=True,
    help="Number of replications (at most 100,000).",
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
    type=OutPath(folder=True),
    default=None,
    help="Run folder to write [default: runs/SCENARIO-NAME]; an existing run folder of the "
    "same scenario is replaced whole.",
)
@click.option(
    "--engine",
    type=click.Choice(["epoch", "reference"]),
    default="epoch",
    show_default=True,
    help="Placement engine: the fast epoch engine, or the per-child reference model.",
)
@click.option(
    "--child-log",
    is_flag=True,
    help="Also write children.csv.gz: one row per child and replication.",
)
@_WORKERS
@_DASK
@click.option(
    "--dask-timeout",
    type=Seconds(),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the Dask scheduler at ADDRESS to answer.",
)
@click.option(
    "--precision",
    type=Fraction(),
    default=None,
    help="Add replications until the 95% interval of the mean long waits is within this "
    "fraction of it (-n is then ignored; 20 to 2,000 replications).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; print only the file list.")
@_OVERWRITE
@_EXTENDS
def run(
    scenario: str,
    replications: int,
    seed: int | None,
    out: Path | None,
    engine: str,
    child_log: bool,
    workers: int,
    dask: str | None,
    dask_timeout: float,
    precision: float | None,
    quiet: bool,
    overwrite: bool,
    allow_extends_anywhere: bool,
) -> None:
    """Run SCENARIO (a file or a bundled name; the Hertfordshire baseline by default).

    Writes results.nc, summary.csv, provenance.json, scenario.yaml and MANIFEST.json
    to the run folder (written whole: a run stopped part-way leaves the previous
    one) and prints, for each January census, the median and 80% interval of
    children waiting longer than the scenario's long-wait threshold
    (calendar.long_wait_terms). A run folder written from another scenario (another
    name or council) is not replaced without --overwrite.
    """
    from placeplan.experiment import load_user_scenario
    from placeplan.experiment import run as run_scenario
    from placeplan.run_folder import check_replaceable, check_same_scenario

    if dask is not None and not dask.strip():
        raise click.BadParameter("give a scheduler address, or --dask alone", param_hint="--dask")
    loaded, path = load_user_scenario(scenario, allow_outside=allow_extends_anywhere)
    for warning in loaded.warnings:
        click.echo(str(warning), err=True)
    out = out or check_output(Path("runs") / loaded.name, folder=True)
    check_replaceable(out)
    note = check_same_scenario(out, loaded, path, overwrite=overwrite)
    if note:
        click.echo(note, err=True)
    progress = not quiet and sys.stderr.isatty()
    results = run_scenario(
        loaded,
        replications=replications,
        seed=seed,
        engine=engine,  # type: ignore[arg-type]
        progress=progress,
        scenario_file=path,
        child_log=child_log,
        workers=workers,
        dask=True if dask == "local" else dask,
        dask_timeout=dask_timeout,
        precision=precision,
    )
    with writing(out):
        files = results.save(out)
    if not quiet:
        _print_headline(results)
        if precision is not None:
            reached = results.provenance["precision"]["achieved"]
            click.echo(
                f"{results.replications} replications: the mean long waits are known to "
                f"±{reached:.1%} (target ±{precision:.1%}).\n"
            )
    click.echo("Files:")
    for f in files.values():
        click.echo(f"  {f}")
    click.echo(f"  {Path(out) / 'MANIFEST.json'} (every file's SHA-256: the folder is one run)")


def _headline_label(scenario) -> str:
    """The headline measure's long name, with the scenario's own threshold."""
    from placeplan import measures

    return measures.get(measures.HEADLINE).long_name(measures.Thresholds.of(scenario))


def _print_headline(results) -> None:
    import textwrap

    from placeplan import mcerror

    s = results.scenario
    prov = results.provenance
    table = results.headline()
    january = table.attrs.get("census", "January") == "January"
    when = "at each January census" if january else "at each snapshot (no January census)"
    click.echo(
        f"{s.title}\n"
        f"{_headline_label(s)} for a special school place, {when}\n"
        f"({results.replications} replications, seed {prov['seed']['given']}"
        f" / entropy {prov['seed']['entropy']}, placeplan {prov['placeplan_version']})\n"
    )
    errors = mcerror.headline_errors(results)

    def cell(value: float, se: float, percent: bool = False) -> str:
        shown = f"{value:.0%}" if percent else f"{value:.0f}"
        return f"{shown:>6} {mcerror.se_text(se, percent):<5}"

    click.echo(f"{'census':<12}{'median':>6}{'80% interval':>26}{'P(nobody)':>19}")
    for row, e in zip(table.itertuples(index=False), errors.itertuples(index=False), strict=True):
        interval = f"{cell(row.p10, e.p10_se)} – {cell(row.p90, e.p90_se)}"
        median = cell(row.median, e.median_se)
        p_none = cell(row.p_none, e.p_none_se, percent=True)
        click.echo(f"{row.census!s:<12}{median}  {interval}  {p_none}".rstrip())
    click.echo("")
    for note in mcerror.notes(errors):
        click.echo(textwrap.fill(note, width=88, subsequent_indent="  "))
    click.echo("")
    if s.pathway is not None:  # the second headline: the EHC pathway's timeliness
        from placeplan.pathway.outputs import headline_text

        for line in headline_text(results):
            click.echo(line)
        click.echo("")


@main.command("hindcast")
@click.argument("scenario")
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(2, MAX_REPLICATIONS),
    default=200,
    show_default=True,
    help="Number of replications (2 to 100,000).",
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
    type=OutPath(folder=True),
    default=None,
    help="Run folder to write [default: runs/SCENARIO-NAME]; an existing run folder is "
    "replaced whole.",
)
@_WORKERS
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; print only the file list.")
@_OVERWRITE
@_EXTENDS
def hindcast_command(
    scenario: str,
    replications: int,
    seed: int | None,
    out: Path | None,
    workers: int,
    quiet: bool,
    overwrite: bool,
    allow_extends_anywhere: bool,
) -> None:
    """Run SCENARIO from a past origin and set it beside the published record.

    SCENARIO is a cohort scenario starting before the latest published January (its
    demand from SEN2's January demand.base_year, with only the levels known then;
    shapes published later are borrowed and named). The run keeps the child log and
    is compared with every observed point within it: the council's published figures
    and the SEN2 educated-elsewhere and awaiting-provision series. Writes the run
    folder as `placeplan run` does, plus hindcast.md (each point with its simulated
    median, 80% interval and band; the borrowed shapes; the state at the last January
    census as a warm start) and figures/ (fan charts with the observed points).
    """
    from placeplan.calibration import command_line
    from placeplan.experiment import load_user_scenario
    from placeplan.hindcast import check_hindcast, hindcast
    from placeplan.observed import _day, _published_text
    from placeplan.run_folder import check_replaceable, check_same_scenario

    loaded, path = load_user_scenario(scenario, allow_outside=allow_extends_anywhere)
    for warning in loaded.warnings:
        click.echo(str(warning), err=True)
    check_hindcast(loaded)
    out = out or check_output(Path("runs") / loaded.name, folder=True)
    check_replaceable(out)
    note = check_same_scenario(out, loaded, path, overwrite=overwrite)
    if note:
        click.echo(note, err=True)
    args = ["hindcast", scenario, "-n", str(replications)]
    if seed is not None:
        args += ["--seed", str(seed)]
    result = hindcast(
        loaded,
        replications,
        seed,
        workers=workers,
        progress=not quiet and sys.stderr.isatty(),
        scenario_file=path,
        command=command_line(args),
    )
    with writing(out):
        files = result.save(out)
    if not quiet:
        click.echo(f"{loaded.title}\n({replications} replications, from {loaded.start})\n")
        click.echo(f"{'date':<25}{'observed':>15}{'median':>8}{'80% interval':>15}  band / point")
        for row in result.table.to_dict("records"):
            when = (
                f"{_day(row['start'])}–{_day(row['end'])}"
                if row["kind"] == "interval" or _day(row.get("date")) is None
                else str(_day(row["date"]))
            )
            compared = row["status"] == "compared"
            median = f"{row['p50']:,.0f}" if compared else "—"
            interval = f"{row['p10']:,.0f}–{row['p90']:,.0f}" if compared else "—"
            band = row["band"] if compared else row["status"].split(":")[0]
            click.echo(
                f"{when:<25}{_published_text(row):>15}{median:>8}{interval:>15}  {band} "
                f"({row['id']})"
            )
        click.echo("")
        click.echo(textwrap.fill(result.sentence(), width=88))
        click.echo("")
    click.echo("Files:")
    for f in files.values():
        click.echo(f"  {f}")


@main.command()
@click.argument("files", nargs=-1, required=True)
@_EXTENDS
def validate(files: tuple[str, ...], allow_extends_anywhere: bool) -> None:
    """Check scenario FILES (or bundled names) as `run` would, before anything runs.

    Reports every problem as FILE:LINE: FIELD: what was expected (exit 2 if any), and
    likely mistakes as FILE:LINE: FIELD: warning: ... (on standard error).
    """
    from placeplan.errors import ScenarioError
    from placeplan.scenario import load_scenario

    failed = False
    for name in files:
        try:
            scenario = load_scenario(name, allow_outside=allow_extends_anywhere)
        except ScenarioError as exc:
            failed = True
            click.echo(str(exc), err=True)
            continue
        except InputError as exc:
            failed = True
            click.echo(f"{name}: {exc}", err=True)
            continue
        for warning in scenario.warnings:
            click.echo(str(warning), err=True)
        places = sum(d.places for d in scenario.placement.designations.values())
        warned = f"; {len(scenario.warnings)} warning(s)" if scenario.warnings else ""
        click.echo(
            f"{name}: ok — {scenario.title}; {len(scenario.designations)} designations, "
            f"{places} places at {scenario.start}, "
            f"{len(scenario.placement.build_programme)} build projects{warned}"
        )
    if failed:
        sys.exit(2)


@main.command()
@click.option(
    "--out",
    type=OutPath(),
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
        with writing(out):
            atomic_write_text(out, text)
        click.echo(f"wrote {out}")


_SEN2_DIR = click.option(
    "--sen2-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help=(
        "A folder of official SEN2 CSV files: a newer release alone is read over the "
        "shipped extract; a folder with older releases too is read instead of it."
    ),
)


@main.command()
@click.option("--council", required=True, help="Council name or ONS code, e.g. Hertfordshire.")
@click.option(
    "--until",
    type=click.IntRange(2019, LAST_BASE_YEAR),
    default=2025,
    show_default=True,
    help=(
        "Last January of data used (the scenario's base year); before 2025 for a hindcast, "
        "2026 with --sen2-dir holding release 2026."
    ),
)
@click.option(
    "--template",
    type=InFile(),
    default=None,
    help="A scenario whose demand section is replaced; all else is kept.",
)
@click.option(
    "--out",
    required=True,
    type=OutPath(),
    help="YAML file to write (may be the template itself).",
)
@_SEN2_DIR
def calibrate(
    council: str, until: int, template: Path | None, out: Path, sen2_dir: Path | None
) -> None:
    """Fit a scenario's demand section to a council's SEN2 series.

    Without --template, writes the demand section alone; with it, a whole scenario.
    The template must be a scenario of the same council (a whole scenario of any
    council comes from `placeplan init`).
    The special school share trend is fitted to need (special schools of every
    type plus children educated elsewhere or awaiting provision), not to
    placements alone, which places cap.
    """
    from placeplan.calibration import calibrate as fit_council
    from placeplan.calibration import (
        check_template_council,
        command_line,
        demand_block,
        move_start,
        replace_demand_block,
    )
    from placeplan.io import atomic_write_text
    from placeplan.scenario import scenario_from_dict
    from placeplan.scenario_files import read_scenario_file

    args = ["calibrate", "--council", council, "--until", str(until)]
    if template is not None:
        args += ["--template", str(template)]
    if sen2_dir is not None:
        args += ["--sen2-dir", str(sen2_dir)]
    args += ["--out", str(out)]
    template_data = None
    if template is not None:
        template_data, _ = read_scenario_file(template)
        if not isinstance(template_data.get("demand"), dict):
            raise InputError(f"{template}: the template has no demand section")
    with reading_sen2(sen2_dir):
        fitted = fit_council(council, until, sen2_dir)
        if template is not None:
            check_template_council(template_data, fitted, template, sen2_dir)
    placed = fitted.diagnostics["special_share_trend_placements"]
    data = None
    if sen2_dir is not None:  # runs of the scenario read the release the fit read
        data = Path(os.path.relpath(sen2_dir.resolve(), out.parent.resolve()))
    block = demand_block(
        fitted, (template_data or {}).get("demand"), command_line(args), sen2_dir=data
    )
    if template is None:
        text = block
        yaml.safe_load(text)
    else:
        text = replace_demand_block(template.read_text(encoding="utf-8"), block)
        calendar = scenario_from_dict(template_data, source=str(template), check_data=False)
        text = move_start(text, until, calendar.calendar.build())
        check = yaml.safe_load(text)
        if sen2_dir is not None:  # the relative path written is read from `out`'s folder
            check["demand"]["sen2_dir"] = str(sen2_dir.resolve())
        scenario_from_dict(check, source=f"{out} (from {template})")
    with writing(out):
        atomic_write_text(out, text)
    click.echo(
        f"{fitted.name} ({fitted.code}) to January {until}: new plans growth "
        f"{fitted.growth:+.3f} ± {fitted.growth_se:.3f} a year (log), share needing a "
        f"special school {fitted.share_trend:+.3f} ± {fitted.share_trend_se:.3f} a year "
        f"(placements alone: {placed if isinstance(placed, str) else format(placed, '+.3f')})"
        + (f"\n{fitted.share_trend_note}" if fitted.share_trend_note else "")
        + f"\nwrote {out}"
    )


@main.command("init")
@click.option(
    "--council",
    required=True,
    help="Council name, ONS code or DfE LA number, e.g. Kent (`placeplan data councils`).",
)
@click.option(
    "--out",
    required=True,
    type=OutPath(),
    help="Scenario file to write (YAML).",
)
@click.option(
    "--until",
    type=click.IntRange(2019, LAST_BASE_YEAR),
    default=2025,
    show_default=True,
    help="Last January of data used: the scenario's base year and start.",
)
@click.option(
    "--gias",
    type=InFile(),
    default=None,
    help="The DfE school register (GIAS 'Establishment fields CSV', edubasealldataYYYYMMDD.csv): "
    "places, schools and localities from it instead of SEN2's counts.",
)
@_SEN2_DIR
def init_command(
    council: str, out: Path, until: int, gias: Path | None, sen2_dir: Path | None
) -> None:
    """Write a whole, runnable scenario for any English council, every number sourced.

    Demand is what `placeplan calibrate` fits; places are the council's children with
    plans in state-funded special schools (SEN2), by designation; the assumptions
    neither gives are stated defaults, each with its source; the build programme is
    empty, with a commented example. Check it with `placeplan validate FILE`, run it
    with `placeplan run FILE`.
    """
    from placeplan.calibration import command_line
    from placeplan.council_init import scenario_for, write_scenario
    from placeplan.scenario import scenario_from_dict

    args = ["init", "--council", council, "--until", str(until)]
    if gias is not None:
        args += ["--gias", str(gias)]
    if sen2_dir is not None:
        args += ["--sen2-dir", str(sen2_dir)]
    args += ["--out", str(out)]
    placement = None
    with reading_sen2(sen2_dir):
        if gias is not None:
            from placeplan.calendar import Term, TermCalendar
            from placeplan.council_init import NEED_DESIGNATION
            from placeplan.gias import placement_from_gias, read_gias

            placement = placement_from_gias(
                read_gias(gias),
                council,
                on=TermCalendar().term_start(until - 1, Term.SPRING),
                need_designation=NEED_DESIGNATION,
            )
            for gap in placement.gaps:
                click.echo(f"{gias.name}: {gap}", err=True)
        data = scenario_for(
            council,
            until=until,
            sen2_dir=sen2_dir,
            placement=placement,
            command=command_line(args),
        )
        scenario = scenario_from_dict(data, source=str(out))
    with writing(out):
        write_scenario(data, out)
    places = sum(d.places for d in scenario.placement.designations.values())
    click.echo(
        f"{scenario.council.name} ({scenario.council.code}): {len(scenario.designations)} "
        f"designations, {places:,} places at {scenario.start}, demand fitted to January "
        f"{until}\nwrote {out} (scenario {scenario.name!r}); run it with `placeplan run {out}`"
    )


@main.command()
@_SCORED_COUNCILS
@_ALL_COUNCILS
@click.option(
    "--origin",
    "origins",
    type=click.IntRange(2020, 2024),
    multiple=True,
    help="January to forecast from, 2020 to 2024 (repeat for several) [default: all five].",
)
@click.option(
    "--horizon", type=click.IntRange(1, 5), default=3, show_default=True, help="Years ahead."
)
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(100, MAX_REPLICATIONS),
    default=1000,
    show_default=True,
    help="Draws behind each interval (100 to 100,000).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--template",
    type=InFile(),
    default=None,
    help="A scenario whose demand section gives the assumptions a calibration does not "
    f"fit (damping, ceasing scale, need re-recording) [default: the bundled {DEFAULT_SCENARIO}].",
)
@click.option("--out", required=True, type=OutPath(), help="CSV file to write.")
@_SEN2_DIR
def backtest(
    councils: tuple[str, ...],
    all_councils: bool,
    origins: tuple[int, ...],
    horizon: int,
    replications: int,
    seed: int,
    template: Path | None,
    out: Path,
    sen2_dir: Path | None,
) -> None:
    """Forecast councils from past origins with only the data known then, beside what happened.

    The cohort projection of a run (the hierarchical fit of new plans at each origin,
    joint draws with the national shocks councils share) is scored by quantity and
    horizon: coverage of the 80% interval and the median's MAPE [%] against the naive
    forecasts. The CSV holds one row per council, origin, horizon and quantity.
    """
    import numpy as np

    from placeplan.demand.backtest import Assumptions, score
    from placeplan.demand.backtest import backtest as run_backtest
    from placeplan.demand.panel import panel
    from placeplan.io import atomic_write_text
    from placeplan.scenario import scenario_from_dict
    from placeplan.scenario_files import read_scenario_file

    if bool(councils) == all_councils:
        raise click.UsageError("give either --council NAME (one or more) or --all")
    path = template if template is not None else bundled_scenarios()[DEFAULT_SCENARIO]
    data, lines = read_scenario_file(path)
    scenario_from_dict(data, source=str(path), lines=lines, check_data=False)
    demand = data.get("demand") if isinstance(data, dict) else None
    if not isinstance(demand, dict):
        raise InputError(f"{path}: the template has no demand section (demand:)")
    assumptions = Assumptions.of(demand, str(path))
    with reading_sen2(sen2_dir):
        tables = sen2.load(sen2_dir=sen2_dir)
    p = panel("la", tables)
    areas = None
    if councils:
        picked = []
        for council in councils:
            try:
                code = sen2.load(council, sen2_dir=sen2_dir).code
            except KeyError as exc:
                raise InputError(
                    f"--council {council}: {exc.args[0] if exc.args else exc}"
                ) from None
            where = np.flatnonzero(p.codes == code)
            if where.size == 0:
                raise InputError(f"--council {council}: {code} is not a council with SEN2 series")
            picked.append(int(where[0]))
        areas = np.array(sorted(set(picked)))
    chosen = tuple(sorted(set(origins))) or (2020, 2021, 2022, 2023, 2024)
    table = run_backtest(
        p, chosen, assumptions, horizon, replications, seed, tables=tables, areas=areas
    )
    with writing(out):
        atomic_write_text(out, table.to_csv(index=False, float_format="%.6g"))
    scores = score(table, naive_required=False)
    shown = ["n", "coverage_80", "mape_p50", "best_naive", "mape_best_naive", "ratio"]
    click.echo(scores[shown].round(3).to_string())
    click.echo(
        f"{len(table)} rows (origins {', '.join(map(str, chosen))}; {replications} draws, "
        f"seed {seed}; assumptions from {path}); wrote {out}"
    )


@main.command("pathway-backtest")
@_SCORED_COUNCILS
@_ALL_COUNCILS
@click.option(
    "--origin",
    "origins",
    type=click.IntRange(2021, 2023),
    multiple=True,
    help="Last calendar year of data used, 2021 to 2023 (repeat) [default: all three].",
)
@click.option(
    "--horizon", type=click.IntRange(1, 3), default=3, show_default=True, help="Years ahead."
)
@click.option(
    "--draws",
    type=click.IntRange(10, 1000),
    default=40,
    show_default=True,
    help="Runs behind each 80% interval (10 to 1,000).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", required=True, type=OutPath(), help="CSV file to write.")
@_SEN2_DIR
def pathway_backtest(
    councils: tuple[str, ...],
    all_councils: bool,
    origins: tuple[int, ...],
    horizon: int,
    draws: int,
    seed: int,
    out: Path,
    sen2_dir: Path | None,
) -> None:
    """Forecast the EHC pathway from past origins with only the data known then.

    Each council's pathway is calibrated on SEN2 up to the origin and run forward;
    its plans issued and % within 20 weeks are scored against what was published
    (MAE of the median, coverage of the 80% interval) and against naive forecasts
    (the last value; the national change applied to the council). The CSV holds one
    row per council, origin, year and quantity.
    """
    from placeplan.io import atomic_write_text
    from placeplan.pathway.backtest import backtest as run_backtest
    from placeplan.pathway.backtest import score
    from placeplan.pathway.observed import pathway_panel

    if bool(councils) == all_councils:
        raise click.UsageError("give either --council NAME (one or more) or --all")
    with reading_sen2(sen2_dir):
        p = pathway_panel(sen2_dir)
    codes = None
    if councils:
        codes = []
        for council in councils:
            try:
                code = sen2.load(council, sen2_dir=sen2_dir).code
            except KeyError as exc:
                raise InputError(
                    f"--council {council}: {exc.args[0] if exc.args else exc}"
                ) from None
            if not ((p["code"] == code) & (p["level"] == "la")).any():
                raise InputError(f"--council {council}: {code} is not a council with SEN2 series")
            codes.append(code)
    chosen = tuple(sorted(set(origins))) or (2021, 2022, 2023)
    table = run_backtest(p, chosen, horizon=horizon, draws=draws, seed=seed, codes=codes)
    with writing(out):
        atomic_write_text(out, table.to_csv(index=False, float_format="%.6g"))
    scores = score(table)
    shown = ["quantity", "horizon", "n", "mae_p50", "ratio_last", "ratio_national", "coverage_80"]
    click.echo(scores[shown].round(3).to_string(index=False) if len(scores) else "nothing scored")
    failed = int((table.drop_duplicates(["code", "origin"])["status"] != "ok").sum())
    click.echo(
        f"{len(table)} rows (origins {', '.join(map(str, chosen))}; {draws} draws, seed {seed}; "
        f"{failed} council-origin(s) with too little data); wrote {out}"
    )


@main.command("compare")
@click.argument("scenarios", nargs=-1, required=True)
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(2, MAX_REPLICATIONS),
    default=200,
    show_default=True,
    help="Paired replications (2 to 100,000).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="The common seed (common random numbers).",
)
@click.option(
    "--out",
    type=OutPath(folder=True),
    default=None,
    help="Folder for each run and comparison.csv [default: runs/compare].",
)
@_WORKERS
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def compare_command(
    scenarios: tuple[str, ...],
    replications: int,
    seed: int,
    out: Path | None,
    workers: int,
    quiet: bool,
) -> None:
    """Compare SCENARIOS with the first, paired replication by replication.

    Prints, at each January census, the mean difference in children waiting longer
    than the long-wait threshold (calendar.long_wait_terms) with its 95% interval,
    and the probability that each option does better than the first. The scenarios
    are checked to be comparable (own names, same designations, thresholds and
    snapshots) before anything runs.
    """
    from placeplan.compare import check_comparable, compare
    from placeplan.run_folder import check_replaceable

    if len(scenarios) < 2:
        raise click.UsageError("give at least two scenarios")
    folder = out or check_output(Path("runs") / "compare", folder=True)
    loaded = check_comparable(list(scenarios))
    for scenario, _ in loaded:
        check_replaceable(folder / scenario.name)
    progress = not quiet and sys.stderr.isatty()
    comparison = compare(list(scenarios), replications, seed, progress=progress, workers=workers)
    with writing(folder):
        files = comparison.save(folder)
    table = comparison.differences()
    click.echo(
        f"{_headline_label(loaded[0][0])}: each option minus "
        f"{comparison.names[0]} ({replications} paired replications, seed {seed})\n"
    )
    click.echo(
        f"{'option':<32}{'census':<12}{'difference':>11}{'95% interval':>20}{'P(better)':>11}"
    )
    for row in table.itertuples(index=False):
        interval = f"{row.ci_low:.0f} – {row.ci_high:.0f}"
        click.echo(
            f"{row.option:<32}{row.census!s:<12}{row.difference:>11.0f}{interval:>20}"
            f"{row.p_better:>11.0%}"
        )
    click.echo(f"\nwrote {files['comparison']}")


@main.command("sensitivity")
@click.argument("run_or_scenario")
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(2, MAX_REPLICATIONS),
    default=None,
    help="Paired replications of each run [default: the run's, or 200 for a scenario].",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=None,
    help="The common seed [default: the run's, or 0 for a scenario].",
)
@click.option(
    "--out",
    type=OutPath(folder=True),
    default=None,
    help="Folder for sensitivity.csv, tornado.png and sensitivity.md "
    "[default: runs/SCENARIO-NAME-sensitivity, or RUN_FOLDER-sensitivity beside a run].",
)
@click.option(
    "--measure",
    default=None,
    help="The headline measure [default: waiting_over_3_terms, children waiting longer "
    "than calendar.long_wait_terms].",
)
@click.option(
    "--at",
    "at",
    default=None,
    help="The headline snapshot: YYYY (its January census), YYYY-MM or YYYY-MM-DD "
    "[default: the last January census].",
)
@_WORKERS
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def sensitivity_command(
    run_or_scenario: str,
    replications: int | None,
    seed: int | None,
    out: Path | None,
    measure: str | None,
    at: str | None,
    workers: int,
    quiet: bool,
) -> None:
    """Rank the assumptions given as distributions by how far each moves the headline.

    RUN_OR_SCENARIO is a run folder written by `placeplan run` (its scenario and seed
    are used) or a scenario file or bundled name. Each assumption is held at its 10th
    and then its 90th percentile in every replication, all else drawn as usual, on
    common random numbers; the swing is the mean paired difference of the headline,
    with its Monte Carlo standard error. Writes sensitivity.csv, tornado.png,
    sensitivity.md, provenance.json and scenario.yaml to the folder, whole.
    """
    from placeplan import measures
    from placeplan.sensitivity import check_replaceable, resolve_target, sensitivity

    target = resolve_target(run_or_scenario)
    for warning in target.scenario.warnings:
        click.echo(str(warning), err=True)
    if out is None:
        where = Path(run_or_scenario)
        default = (
            where.parent / f"{where.name}-sensitivity"
            if "run" in target.source
            else Path("runs") / f"{target.scenario.name}-sensitivity"
        )
        out = check_output(default, folder=True)
    check_replaceable(out)
    progress = not quiet and sys.stderr.isatty()
    result = sensitivity(
        target,
        replications,
        seed,
        measure=measure or measures.HEADLINE,
        at=at,
        workers=workers,
        progress=progress,
        on_run=None if quiet else lambda what: click.echo(f"running: {what}", err=True),
    )
    with writing(out):
        files = result.save(out)
    if not quiet:
        click.echo(result.display_table().to_string(index=False))
        click.echo("")
    click.echo(result.sentence())
    click.echo("Files:")
    for f in files.values():
        click.echo(f"  {f}")


@main.command("capacity")
@click.argument("scenario")
@click.option(
    "--target-wait-terms",
    type=click.FloatRange(0, 100, min_open=True),
    default=3.0,
    show_default=True,
    help="The target wait [terms], a maximum: the target mean wait is it ÷ --factor.",
)
@click.option(
    "--clear-by",
    default=None,
    help="Date (YYYY-MM-DD) by which the list should be down to the target list "
    "[default: a year after --at].",
)
@click.option(
    "--at",
    "at",
    default=None,
    help="Measure demand over the year from the snapshot nearest this date (YYYY-MM-DD) "
    "[default: the first snapshot].",
)
@click.option(
    "--factor",
    type=click.FloatRange(1, 100),
    default=4.0,
    show_default=True,
    help="Target wait ÷ target mean wait (NHS-R's factor; 1 takes the target as the mean).",
)
@click.option(
    "--cv-arrivals",
    type=click.FloatRange(0, 10),
    default=1.0,
    show_default=True,
    help="Coefficient of variation of the time between referrals (1: Poisson).",
)
@click.option(
    "--cv-stay",
    type=click.FloatRange(0, 10),
    default=1.0,
    show_default=True,
    help="Coefficient of variation of stays in a place (1: exponential).",
)
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(1, MAX_REPLICATIONS),
    default=100,
    show_default=True,
    help="Replications of the short run demand is measured on.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", type=OutPath(), default=None, help="CSV file to write the table to.")
def capacity_command(
    scenario: str,
    target_wait_terms: float,
    clear_by: str | None,
    at: str | None,
    factor: float,
    cv_arrivals: float,
    cv_stay: float,
    replications: int,
    seed: int,
    out: Path | None,
) -> None:
    """Quick analytic guides per designation: load, target list, Kingman and relief places.

    The NHS-R waiting-list formulas stated for places, with demand (referrals a year
    and the mean stay in a place) measured on a short run of SCENARIO (a file or a
    bundled name) over one year. Prints the table and each formula's assumptions;
    --out writes the table (one row per designation, then all pooled) as CSV.
    """
    import pandas as pd

    from placeplan.capacity import guides
    from placeplan.experiment import load_user_scenario
    from placeplan.io import atomic_write_text

    loaded, _ = load_user_scenario(scenario)
    for warning in loaded.warnings:
        click.echo(str(warning), err=True)
    result = guides(
        loaded,
        target_wait_terms=target_wait_terms,
        clear_by=clear_by,  # type: ignore[arg-type]  # checked and parsed by guides
        replications=replications,
        seed=seed,
        at=at,  # type: ignore[arg-type]
        factor=factor,
        cv_arrivals=cv_arrivals,
        cv_stay=cv_stay,
    )
    demand = result.demand
    assert demand is not None
    click.echo(
        f"Capacity guides: {loaded.title}\n"
        f"demand measured {demand.start} to {demand.end} ({replications} replications, "
        f"seed {seed}); target wait {target_wait_terms:g} terms, target mean wait "
        f"{target_wait_terms / factor:.3g} terms\n"
    )
    click.echo(result.display_table().to_string(index=False))
    click.echo(
        "\nplaces [places]; referrals [children a year]; stay [years]; demand = referrals × "
        "stay [places]; load = demand ÷ places; lists [children]; waits [terms]"
    )
    click.echo("\nAssumptions:")
    for k, text in enumerate(result.assumptions, 1):
        click.echo(textwrap.fill(text, 96, initial_indent=f"{k}. ", subsequent_indent="   "))
    if out is not None:
        table = pd.concat([result.table, result.pooled], ignore_index=True)
        with writing(out):
            atomic_write_text(out, table.to_csv(index=False, float_format="%.6g"))
        click.echo(f"\nwrote {out}")


@main.command("sweep")
@click.argument("sweep_file", type=InFile())
@click.option(
    "--out",
    type=OutPath(folder=True),
    default=None,
    help="The sweep's folder [default: runs/SWEEP-NAME]; run again to resume.",
)
@_WORKERS
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def sweep_command(sweep_file: Path, out: Path | None, workers: int, quiet: bool) -> None:
    """Run a grid of scenario variations, point by point; killed and run again, it resumes."""
    from placeplan.sweep import load_sweep, run_sweep

    spec, _ = load_sweep(sweep_file)
    folder = out or check_output(Path("runs") / spec.name, folder=True)
    counts = {"computed": 0, "found": 0}

    def report(point, computed):
        counts["computed" if computed else "found"] += 1
        if not quiet:
            click.echo(f"{'ran' if computed else 'had'} {point['id']} {point['label']}")

    progress = not quiet and sys.stderr.isatty()
    with writing(folder):
        table = run_sweep(sweep_file, folder, workers=workers, progress=progress, on_point=report)
    click.echo(
        f"{len(table)} points: {counts['computed']} computed, {counts['found']} already "
        f"done; combined view: placeplan.sweep.open_sweep({str(folder)!r})"
    )


@main.command("optimise")
@click.argument("scenario")
@click.option(
    "--candidates",
    "candidates_file",
    required=True,
    help="The candidate projects: a YAML or TOML file, or a bundled list's name "
    "(e.g. herts-candidates).",
)
@click.option(
    "--target",
    required=True,
    help='MEASURE <= COUNT by|at|from YYYY-MM, e.g. "long_waits<=0 by 2028-01" '
    "(measures: long_waits, waits_over_52_weeks, waiting, out_of_area).",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.9,
    show_default=True,
    help="Probability with which the target must be met.",
)
@click.option(
    "--level",
    type=click.FloatRange(0.5, 1, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of the bounds on that probability.",
)
@click.option(
    "--budget",
    type=click.FloatRange(0, 1e12),
    default=None,
    help="Most capital the programme may cost [GBP].",
)
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(1, MAX_REPLICATIONS),
    default=100,
    show_default=True,
    help="Replications of each programme in the search.",
)
@click.option(
    "--final-replications",
    type=click.IntRange(1, MAX_REPLICATIONS),
    default=None,
    help="Replications of each finalist and of the verification [default: max(4n, 200)].",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Search seed (the selection and verification seeds are derived from it).",
)
@click.option(
    "--verify-seed",
    type=click.IntRange(min=0),
    default=None,
    help="Seed of the verification [default: derived from --seed, never equal].",
)
@click.option(
    "--max-evaluations",
    type=click.IntRange(1, 10_000),
    default=60,
    show_default=True,
    help="Most distinct programmes simulated in the search.",
)
@click.option(
    "--finalists",
    type=click.IntRange(1, 50),
    default=5,
    show_default=True,
    help="Most programmes taken to ranking and selection.",
)
@click.option("--no-guess", is_flag=True, help="Do not start from the analytic capacity guides.")
@click.option(
    "--out",
    type=OutPath(folder=True),
    default=None,
    help="The output folder [default: runs/optimise-SCENARIO]; run again to resume.",
)
@_WORKERS
@_DASK
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
@_EXTENDS
def optimise_command(
    scenario: str,
    candidates_file: str,
    target: str,
    confidence: float,
    level: float,
    budget: float | None,
    replications: int,
    final_replications: int | None,
    seed: int,
    verify_seed: int | None,
    max_evaluations: int,
    finalists: int,
    no_guess: bool,
    out: Path | None,
    workers: int,
    dask: str | None,
    quiet: bool,
    allow_extends_anywhere: bool,
) -> None:
    """Find the cheapest programme of candidate projects meeting a target, and verify it.

    Searches programmes (which candidates, opened in which term) on common random
    numbers from the analytic first guess, re-runs the finalists on a fresh seed
    (ranking and selection), and re-runs the choice on another fresh seed: it is
    reported as meeting the target only if that verification says so. Writes
    programme.yaml (a scenario extending SCENARIO), frontier.csv and .png,
    evaluations.csv, finalists.csv, report.md and result.json; killed and run again,
    it resumes from the evaluations already written.
    """
    from placeplan.experiment import load_user_scenario
    from placeplan.optimise import optimise, write_outputs

    if dask is not None and not dask.strip():
        raise click.BadParameter("give a scheduler address, or --dask alone", param_hint="--dask")
    from placeplan.bundled import bundled_candidates

    bundled = bundled_candidates()
    candidates_path = Path(candidates_file)
    if not candidates_path.exists() and candidates_file in bundled:
        candidates_path = bundled[candidates_file]
    elif not candidates_path.exists():
        raise InputError(
            f"--candidates {candidates_file}: no such file, nor a bundled list "
            f"({', '.join(bundled) or 'none'})"
        )
    loaded, path = load_user_scenario(scenario, allow_outside=allow_extends_anywhere)
    folder = out or check_output(Path("runs") / f"optimise-{loaded.name}", folder=True)
    with writing(folder):
        result = optimise(
            loaded,
            candidates_path,
            target,
            out=folder,
            confidence=confidence,
            level=level,
            budget=budget,
            replications=replications,
            final_replications=final_replications,
            seed=seed,
            verify_seed=verify_seed,
            max_evaluations=max_evaluations,
            finalist_count=finalists,
            workers=workers,
            dask=True if dask == "local" else dask,
            scenario_file=path,
            guess=not no_guess,
            on_progress=None if quiet else lambda line: click.echo(line, err=True),
        )
        files = write_outputs(result, folder)
    click.echo(result.message)
    click.echo("Files:")
    for f in files.values():
        click.echo(f"  {f}")


@main.command("national")
@click.option(
    "--council",
    "council_names",
    multiple=True,
    help="A council (name or ONS code) to run; repeat for several [default: every council].",
)
@click.option(
    "--scenarios",
    "scenario_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A folder of the councils' own scenario files (*.yaml, one per council, matched by "
    "council.code); the others are written as `placeplan init` writes them.",
)
@click.option(
    "-n",
    "--replications",
    type=click.IntRange(1, MAX_REPLICATIONS),
    default=1000,
    show_default=True,
    help="Replications per council.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--year",
    type=click.IntRange(2019, 2100),
    default=None,
    help="The January to rank councils at [default: five years after --until].",
)
@click.option(
    "--until",
    type=click.IntRange(2019, LAST_BASE_YEAR),
    default=2025,
    show_default=True,
    help="The January the councils' scenarios start from.",
)
@_SEN2_DIR
@click.option(
    "--out",
    type=OutPath(folder=True),
    default=None,
    help="The national run's folder [default: runs/national]; run again to resume.",
)
@_WORKERS
@_DASK
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def national_command(
    council_names: tuple[str, ...],
    scenario_dir: Path | None,
    replications: int,
    seed: int,
    year: int | None,
    until: int,
    sen2_dir: Path | None,
    out: Path | None,
    workers: int,
    dask: str | None,
    quiet: bool,
) -> None:
    """Forecast every English council and rank them by long waits and shortfall of places.

    Writes national.csv (one row per council: medians and 80% intervals at the
    ranking January, and the ranks), national.nc, national.png, refused.csv (councils
    that could not be run, and why) and provenance.json. Each council has its own
    seed, so its figures do not depend on the others; a run killed and started
    again computes only the councils missing (the folder's parts/).
    """
    from placeplan.national import national_run
    from placeplan.scenario_files import read_scenario_file

    if dask is not None and not dask.strip():
        raise click.BadParameter("give a scheduler address, or --dask alone", param_hint="--dask")
    folder = out or check_output(Path("runs") / "national", folder=True)
    own: dict[str, tuple[dict, str]] = {}
    if scenario_dir is not None:
        for path in sorted(scenario_dir.glob("*.yaml")):
            data, _ = read_scenario_file(path)
            code = (data.get("council") or {}).get("code") if isinstance(data, dict) else None
            if not isinstance(code, str):
                raise InputError(f"{path}: no council.code: every scenario names its council")
            if code in own:
                raise InputError(f"{path}: a second scenario for {code} (also {own[code][1]})")
            own[code] = (data, str(path))
    with reading_sen2(sen2_dir), writing(folder):
        result = national_run(
            council_names or None,
            replications=replications,
            seed=seed,
            year=year,
            scenarios=own,
            until=until,
            sen2_dir=sen2_dir,
            workers=workers,
            dask=True if dask == "local" else dask,
            parts=folder / "parts",
            progress=not quiet and sys.stderr.isatty(),
        )
        files = result.save(folder)
    top = result.table.head(10)
    click.echo(
        f"{len(result.table)} councils run ({len(result.provenance['resumed'])} resumed), "
        f"{len(result.refused)} refused; the ten with most long waits in January "
        f"{result.year} (median, 80% interval):"
    )
    for row in top.itertuples():
        click.echo(
            f"  {row.rank_long_waits:>3}. {row.name:<32} {row.long_waits_median:>7,.0f} "
            f"({row.long_waits_p10:,.0f}–{row.long_waits_p90:,.0f}); shortfall "
            f"{row.shortfall_median:,.0f} places"
        )
    for path in files.values():
        click.echo(f"  {path}")


@main.command("plot")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["png", "svg"]), default="png", show_default=True
)
def plot_command(run_dir: Path, fmt: str) -> None:
    """Draw a run's figures into RUN_DIR/figures (fan charts, demand and places, localities)."""
    from placeplan.plot import save
    from placeplan.results import open_results

    results = open_results(run_dir)
    figures = results.plot.figures()  # only those that apply (no locality chart for one)
    for name, fig in figures.items():
        target = run_dir / "figures" / f"{name}.{fmt}"
        with writing(target):
            click.echo(f"wrote {save(fig, target)}")


@main.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--compare",
    "others",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Another run folder of the same seed, compared with RUN_DIR (repeatable).",
)
@click.option(
    "--out",
    type=OutPath(),
    default=None,
    help="report.html (self-contained) or report.md [default: RUN_DIR/report.html].",
)
def report_command(run_dir: Path, others: tuple[Path, ...], out: Path | None) -> None:
    """Write the citable report of a run: answer, programme, assumptions, model, provenance."""
    from placeplan.report import write_report
    from placeplan.results import open_results

    results = open_results(run_dir)
    compared = [open_results(o) for o in others]
    for other in compared:
        if other.provenance["seed"]["entropy"] != results.provenance["seed"]["entropy"]:
            raise InputError(f"{other.scenario.name}: compare runs of the same seed")
    target = out or run_dir / "report.html"
    try:
        with writing(target):
            path = write_report(results, target, compared)
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(str(exc)) from None
    click.echo(f"wrote {path}")


@main.command("cite")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def cite_command(run_dir: Path) -> None:
    """Print a citation of the forecast in RUN_DIR: version, scenario hash, seed, data."""
    from placeplan.results import open_results

    click.echo(open_results(run_dir).citation())


@main.command("export")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=OutPath(),
    default=None,
    help="Workbook to write [default: RUN_DIR/results.xlsx].",
)
def export_command(run_dir: Path, out: Path | None) -> None:
    """Write an Excel workbook of a run folder: one sheet per measure, units, provenance."""
    from placeplan.results import open_results

    results = open_results(run_dir)
    target = out or run_dir / "results.xlsx"
    with writing(target):
        path = results.to_excel(target)
    click.echo(f"wrote {path}")


@main.group()
def data() -> None:
    """The SEN2 data placeplan ships (or a newer release given with --sen2-dir)."""


@data.command("councils")
@_SEN2_DIR
def data_councils(sen2_dir: Path | None) -> None:
    """List the areas with SEN2 figures: ONS code, name, level, region, years."""
    with reading_sen2(sen2_dir):
        frame = sen2.councils(sen2_dir)
    click.echo(frame.to_string(index=False))


@data.command("diff")
@click.option(
    "--sen2-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="A folder of official SEN2 CSV files (a newer release) to compare with the shipped one.",
)
@click.option(
    "--top",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="Largest revisions listed per table.",
)
def data_diff(sen2_dir: Path, top: int) -> None:
    """Show what a folder of SEN2 files changes against the release placeplan ships.

    The layout of each file (e.g. 2026: Down syndrome a primary need, special
    academies and free schools split), new needs and columns, years added or
    missing, and, table by table, how many published values were revised, with the
    largest revisions (area, year, column, old -> new).
    """
    from placeplan.sen2_diff import diff

    with reading_sen2(sen2_dir):
        found = diff(sen2_dir, top=top)
    click.echo(found.render(top), nl=False)


@main.command()
def scenarios() -> None:
    """List the bundled scenarios."""
    from placeplan.scenario import load_scenario

    for name, path in bundled_scenarios().items():
        title = load_scenario(path).title
        click.echo(f"{name:<36}{title}")


if __name__ == "__main__":  # pragma: no cover
    main()
