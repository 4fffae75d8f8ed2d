"""One settings object. Read inside functions (never at import time); env prefix TRANSPARENCY_."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    project_dir: Path = PROJECT_DIR
    http_timeout_s: float = 60.0
    http_retries: int = 4  # attempts after the first one
    http_backoff_s: float = 1.0  # first back-off; doubles each retry
    max_download_bytes: int = 512 * 1024**2  # size cap on one retrieved file
    max_member_bytes: int = 2 * 1024**3  # size cap on one uncompressed archive member
    testlist_countries: tuple[str, ...] = ("KZ",)  # Citizen Lab lists retrieved besides global.csv
    ooni_countries: tuple[str, ...] = ("KZ",)  # probe_cc values queried from OONI
    ooni_since: date | None = None  # first day of OONI's first retrieval (None: the last REFETCH_DAYS days)
    today: date | None = None  # the run's date for windowed APIs (None: the UTC date now); fixed in tests
    extra: dict = field(default_factory=dict)

    # ---- zones (see README "Data layout") ----
    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def gate_dir(self) -> Path:
        """Gate results (one JSON per validated batch) live here."""
        return self.data_dir / "gate"

    @property
    def docs_dir(self) -> Path:
        """Great Expectations Data Docs (HTML)."""
        return self.data_dir / "data_docs"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def publish_dir(self) -> Path:
        return self.data_dir / "publish"

    @property
    def dbt_dir(self) -> Path:
        return self.project_dir / "dbt_project"

    def run_date(self) -> date:
        return self.today or datetime.now(UTC).date()

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def _env(name: str, cast, default):
    value = os.environ.get(f"TRANSPARENCY_{name}")
    if value in (None, ""):
        return default
    try:
        return cast(value)
    except ValueError:
        from pipelines.errors import PipelineError

        raise PipelineError(f"TRANSPARENCY_{name}={value!r} is not a valid value") from None


def _codes(value: str) -> tuple[str, ...]:
    return tuple(code.strip().upper() for code in value.split(",") if code.strip())


def load_settings(data_dir: str | Path | None = None, **overrides) -> Settings:
    """Settings from arguments, then TRANSPARENCY_* variables, then defaults."""
    base = Settings(data_dir=PROJECT_DIR / "data")
    resolved = Path(data_dir) if data_dir else _env("DATA_DIR", Path, base.data_dir)
    values = {
        "data_dir": resolved.resolve(),
        "http_timeout_s": _env("HTTP_TIMEOUT_S", float, base.http_timeout_s),
        "http_retries": _env("HTTP_RETRIES", int, base.http_retries),
        "http_backoff_s": _env("HTTP_BACKOFF_S", float, base.http_backoff_s),
        "max_download_bytes": _env("MAX_DOWNLOAD_BYTES", int, base.max_download_bytes),
        "max_member_bytes": _env("MAX_MEMBER_BYTES", int, base.max_member_bytes),
        "testlist_countries": _env("TESTLIST_COUNTRIES", _codes, base.testlist_countries),
        "ooni_countries": _env("OONI_COUNTRIES", _codes, base.ooni_countries),
        "ooni_since": _env("OONI_SINCE", date.fromisoformat, base.ooni_since),
    }
    values.update(overrides)
    return Settings(**values)
