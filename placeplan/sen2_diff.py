"""What a folder of official SEN2 files changes against the release placeplan ships.

A newer release is not the shipped one with years added: DfE revises earlier years
(release 2026 moved England's SLD plans of January 2025 from 25,681 to 25,025), adds
need categories (Down syndrome) and splits columns (special academies and free
schools). :func:`diff` names every such change, so that nobody forecasts from a newer
release without knowing what it changed; ``placeplan data diff`` prints it, and every
command given ``--sen2-dir`` prints :meth:`ReleaseDiff.summary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from placeplan import sen2

__all__ = ["ReleaseDiff", "TableDiff", "diff"]


@dataclass(frozen=True)
class TableDiff:
    """How one table read from a folder differs from the shipped one.

    Attributes
    ----------
    table : str
        The table's name (:data:`placeplan.sen2.TABLE_NAMES`).
    years_added, years_dropped : tuple of int
        Years only in the folder, and years only in the shipped extract.
    columns_added : tuple of str
        Columns with values in the folder and none in the shipped extract.
    categories_added : tuple of str
        Categories (e.g. ``need=DS``) only in the folder.
    cells_compared : int
        Values of the rows (area, year, category) both hold [cells].
    cells_changed : int
        Of those, values that differ (a number revised, or published where it was
        missing or the reverse) [cells].
    largest : pandas.DataFrame
        The largest revisions of a number: ``code, name, year, category, column, old,
        new, change``, largest absolute change first.
    """

    table: str
    years_added: tuple[int, ...]
    years_dropped: tuple[int, ...]
    columns_added: tuple[str, ...]
    categories_added: tuple[str, ...]
    cells_compared: int
    cells_changed: int
    largest: pd.DataFrame

    @property
    def differs(self) -> bool:
        """Whether anything differs."""
        return bool(
            self.years_added
            or self.years_dropped
            or self.columns_added
            or self.categories_added
            or self.cells_changed
        )


@dataclass(frozen=True)
class ReleaseDiff:
    """Differences between a folder of official SEN2 files and the shipped extract.

    Attributes
    ----------
    folder : str
        The folder read.
    release, shipped_release : str
        The releases read and the releases shipped, in words.
    layouts : pandas.DataFrame
        One row per file read: ``release``, ``file``, ``layout`` (see
        :data:`placeplan.sen2.LAYOUTS`).
    tables : tuple of TableDiff
        One per data table.
    """

    folder: str
    release: str
    shipped_release: str
    layouts: pd.DataFrame
    tables: tuple[TableDiff, ...]

    @property
    def new_layouts(self) -> list[str]:
        """Files read in a layout newer than the shipped files', as ``file (layout)``."""
        newer = self.layouts[self.layouts["layout"].astype(int) > 2025]
        return [f"{r.file} ({r.layout})" for r in newer.itertuples()]

    @property
    def identical(self) -> bool:
        """Whether the folder gives exactly the shipped tables."""
        return not any(t.differs for t in self.tables)

    def summary(self) -> str:
        """One or two lines: what the folder changes, for stderr of every command."""
        head = f"SEN2 from {self.folder}: {self.release}"
        if self.identical:
            return f"{head}; the same tables as the shipped {self.shipped_release}."
        parts = []
        needs = sorted(
            {c.split("=", 1)[1] for t in self.tables for c in t.categories_added if "need=" in c}
        )
        if needs:
            parts.append(f"new primary need {', '.join(needs)}")
        split = sorted({c for t in self.tables for c in t.columns_added})
        if split:
            parts.append(f"new columns {', '.join(split)}")
        added = sorted({y for t in self.tables for y in t.years_added})
        if added:
            parts.append(f"years added {_years(added)}")
        changed = [t for t in self.tables if t.cells_changed]
        if changed:
            n = sum(t.cells_changed for t in changed)
            parts.append(f"{n:,} published values revised in {len(changed)} tables")
        dropped = sorted({y for t in self.tables for y in t.years_dropped})
        if dropped:
            parts.append(
                f"years of the shipped release missing {_years(dropped)} (put the older "
                "releases' folders beside it to keep them)"
            )
        return (
            f"{head}; against the shipped {self.shipped_release}: {'; '.join(parts)}.\n"
            f"  `placeplan data diff --sen2-dir {self.folder}` lists the differences."
        )

    def render(self, top: int = 10) -> str:
        """The differences as text: layouts, then each table's changes.

        Parameters
        ----------
        top : int
            Largest revisions listed per table.
        """
        lines = [
            f"Folder: {self.folder}",
            f"Read:    {self.release}",
            f"Shipped: {self.shipped_release}",
            "",
            "Layouts of the files read (placeplan.sen2_layouts):",
        ]
        for r in self.layouts.itertuples():
            lines.append(f"  release {r.release}  {r.file:<26} layout {r.layout}")
        if self.identical:
            lines += ["", "The tables are the same as the shipped ones."]
            return "\n".join(lines) + "\n"
        for t in self.tables:
            if not t.differs:
                continue
            lines += ["", f"{t.table}:"]
            if t.categories_added:
                lines.append(f"  new categories: {', '.join(t.categories_added)}")
            if t.columns_added:
                lines.append(f"  new columns: {', '.join(t.columns_added)}")
            if t.years_added:
                lines.append(f"  years added: {_years(t.years_added)}")
            if t.years_dropped:
                lines.append(
                    f"  years of the shipped release not in the folder: {_years(t.years_dropped)}"
                )
            if t.cells_compared:
                share = t.cells_changed / t.cells_compared
                lines.append(
                    f"  values changed: {t.cells_changed:,} of {t.cells_compared:,} "
                    f"compared ({share:.1%})"
                )
            if len(t.largest):
                lines.append(f"  largest revisions (of {t.cells_changed:,}):")
                for r in t.largest.head(top).itertuples():
                    category = f" {r.category}" if r.category else ""
                    lines.append(
                        f"    {r.name} ({r.code}) {r.year}{category} {r.column}: "
                        f"{r.old:,} -> {r.new:,} ({r.change:+,})"
                    )
        return "\n".join(lines) + "\n"


def _years(years: tuple[int, ...] | list[int]) -> str:
    """``2010–2018, 2026`` from a list of years."""
    years = sorted(years)
    runs: list[list[int]] = []
    for y in years:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def _values(name: str) -> list[str]:
    """Count and rate columns of a data table (not ``age``, ``year`` or ``release``)."""
    schema = sen2._SCHEMAS[name]
    return [c for c, t in schema.items() if t in {"Int64", "Float64"} and c != "age"]


def _table_diff(name: str, old: pd.DataFrame, new: pd.DataFrame, top: int) -> TableDiff:
    keys = ["code", "year", *sen2._CATEGORY_KEYS[name]]
    values = _values(name)
    old_years, new_years = set(old["year"].astype(int)), set(new["year"].astype(int))
    columns_added = tuple(c for c in values if old[c].isna().all() and new[c].notna().any())
    categories = []
    for column in sen2._CATEGORY_KEYS[name]:
        if column in {"age_label", "placement"}:
            continue  # labels, not categories a model maps
        for value in sorted(set(new[column].dropna()) - set(old[column].dropna())):
            categories.append(f"{column}={value}")
    both = old[[*keys, "name", *values]].merge(
        new[[*keys, *values]], on=keys, how="inner", suffixes=("_old", "_new")
    )
    compared = changed = 0
    revisions = []
    for column in values:
        a, b = both[f"{column}_old"], both[f"{column}_new"]
        present = a.notna() | b.notna()
        differs = (a.isna() != b.isna()) | (a.notna() & b.notna() & (a != b).fillna(False))
        compared += int(present.sum())
        changed += int(differs.sum())
        numbers = differs & a.notna() & b.notna()
        if numbers.any():
            hit = both.loc[numbers, ["code", "name", "year", *sen2._CATEGORY_KEYS[name]]].copy()
            cats = list(sen2._CATEGORY_KEYS[name])
            hit["category"] = hit[cats].astype(str).agg(" ".join, axis=1) if cats else ""
            hit["column"] = column
            hit["old"] = a[numbers].to_numpy()
            hit["new"] = b[numbers].to_numpy()
            revisions.append(hit[["code", "name", "year", "category", "column", "old", "new"]])
    if revisions:
        largest = pd.concat(revisions, ignore_index=True)
        largest["change"] = largest["new"] - largest["old"]
        order = np.argsort(-np.abs(largest["change"].astype(float).to_numpy()), kind="stable")
        largest = largest.iloc[order[:top]].reset_index(drop=True)
    else:
        largest = pd.DataFrame(
            columns=["code", "name", "year", "category", "column", "old", "new", "change"]
        )
    return TableDiff(
        table=name,
        years_added=tuple(sorted(new_years - old_years)),
        years_dropped=tuple(sorted(old_years - new_years)),
        columns_added=columns_added,
        categories_added=tuple(categories),
        cells_compared=compared,
        cells_changed=changed,
        largest=largest,
    )


def diff(sen2_dir: str | Path, *, top: int = 10) -> ReleaseDiff:
    """Compare the official SEN2 files in a folder with the shipped extract.

    Parameters
    ----------
    sen2_dir : str or pathlib.Path
        A folder as :func:`placeplan.sen2.read_official` takes it.
    top : int
        Largest revisions kept per table.

    Returns
    -------
    ReleaseDiff

    Raises
    ------
    FileNotFoundError, placeplan.sen2.SEN2FormatError
        As :func:`placeplan.sen2.read_official`.
    """
    read = sen2.load(sen2_dir=sen2_dir)
    shipped = sen2.load()
    tables = tuple(
        _table_diff(name, getattr(shipped, name), getattr(read, name), top)
        for name in sen2._DATA_TABLES
    )
    rows = []
    for r in read.releases.itertuples():
        for item in str(r.layouts).split(";") if pd.notna(r.layouts) else []:
            file, layout = item.split(":", 1)
            rows.append({"release": int(r.release), "file": file, "layout": layout})
    return ReleaseDiff(
        folder=str(sen2_dir),
        release=read.release,
        shipped_release=shipped.release,
        layouts=pd.DataFrame(rows, columns=["release", "file", "layout"]),
        tables=tables,
    )
