"""The planner notebooks run from top to bottom, are kept in git without outputs, pass
ruff, and write nothing into ``notebooks/``."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

FOLDER = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))


def test_there_is_a_quickstart():
    assert "quickstart.ipynb" in [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_notebooks_pass_ruff():  # ruff is a test dependency: missing, this fails
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    proc = subprocess.run(
        [ruff, "check", "--no-cache", str(FOLDER)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _files(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_and_writes_outside_its_folder(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' temporary folders
    before = _files(FOLDER)
    nb = nbformat.read(path, as_version=4)
    # run where a planner runs it: in notebooks/
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(FOLDER)}}
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    assert _files(FOLDER) == before, "a notebook wrote into notebooks/"
    if path.name == "quickstart.ipynb":
        (run,) = tmp_path.glob("placeplan-quickstart-*/run")
        assert (run / "results.nc").exists() and (run / "results.xlsx").exists()
    if path.name == "calibrating-your-council.ipynb":
        (written,) = tmp_path.glob("placeplan-init-*/leeds.yaml")
        text = written.read_text(encoding="utf-8")
        assert 'name: "leeds-baseline"' in text and "placeplan calibrate --council Leeds" in text
