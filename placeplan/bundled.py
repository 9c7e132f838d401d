"""Scenarios bundled with placeplan, found by name."""

from __future__ import annotations

from pathlib import Path

from placeplan.errors import ScenarioError

__all__ = [
    "DEFAULT_SCENARIO",
    "bundled_candidates",
    "bundled_scenarios",
    "resolve_scenario_path",
    "scenario_dir",
]

DEFAULT_SCENARIO = "herts-baseline"
_SUFFIXES = (".yaml", ".yml", ".toml")
_CANDIDATES = "candidates"
"""Subfolder of candidate project lists for ``placeplan optimise``: not scenarios."""


def scenario_dir() -> Path:
    """Folder of the bundled scenarios.

    Installed wheels carry them as ``placeplan/scenarios``; a source checkout
    keeps them in the top-level ``scenarios/`` folder.
    """
    here = Path(__file__).resolve().parent
    installed = here / "scenarios"
    return installed if installed.is_dir() else here.parent / "scenarios"


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenarios by name (validation scenarios as ``validation/NAME``)."""
    root = scenario_dir()
    found = {}
    for path in sorted(root.rglob("*")):
        if path.suffix in _SUFFIXES and path.relative_to(root).parts[0] != _CANDIDATES:
            found[path.relative_to(root).with_suffix("").as_posix()] = path
    return found


def bundled_candidates() -> dict[str, Path]:
    """Bundled candidate project lists (``scenarios/candidates/``) by name."""
    folder = scenario_dir() / _CANDIDATES
    return {p.stem: p for p in sorted(folder.glob("*")) if p.suffix in _SUFFIXES}


def resolve_scenario_path(path_or_name: str | Path) -> Path:
    """A scenario file path from a path or a bundled scenario's name.

    Raises
    ------
    ScenarioError
        If it is neither an existing file nor a bundled name.

    """
    path = Path(path_or_name)
    if path.suffix.lower() in _SUFFIXES or path.exists():
        return path
    bundled = bundled_scenarios()
    if str(path_or_name) in bundled:
        return bundled[str(path_or_name)]
    names = ", ".join(bundled) or "none"
    raise ScenarioError.single(
        str(path_or_name), f"no such scenario file or bundled scenario (bundled: {names})"
    )
