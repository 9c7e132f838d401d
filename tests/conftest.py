"""Shared fixtures."""

from pathlib import Path

import pytest
from sen2_fixture import make_sen2_dir


@pytest.fixture
def sen2_dir(tmp_path: Path) -> Path:
    """A small folder of official-format files: two releases, markers, a BOM, a new LA."""
    return make_sen2_dir(tmp_path)
