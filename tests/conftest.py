"""Shared fixtures. Real upstream files are read where they are (../shared/data/real), never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_DIR, load_settings

REAL_DIR = Path(os.environ.get("TRANSPARENCY_REAL_DIR", PROJECT_DIR.parent / "shared" / "data" / "real"))
SAMPLES_DIR = PROJECT_DIR / "data" / "samples"
GOOGLE_REAL_VINTAGES = ("2023-03", "2025-12", "2026-03")


def require_real(*parts: str) -> Path:
    """Path under the real-data folder; skip when absent, but fail when CI=true (CI must have it)."""
    path = REAL_DIR.joinpath(*parts)
    if not path.exists():
        message = f"real upstream data not found at {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: these tests must run)")
        pytest.skip(message)
    return path


@pytest.fixture
def settings(tmp_path):
    """Settings with a fresh data dir and fast HTTP retries."""
    return load_settings(data_dir=tmp_path / "data", http_backoff_s=0.01, http_timeout_s=2.0)


@pytest.fixture
def real_google():
    return require_real("google")
