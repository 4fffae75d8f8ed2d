"""The synthetic sample snapshots are what scripts/make_rkn_samples.py writes, byte for byte."""

from __future__ import annotations

import importlib.util

from pipelines.settings import PROJECT_DIR
from tests.conftest import SAMPLES_DIR


def test_samples_are_reproduced_by_the_script(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "make_rkn_samples", PROJECT_DIR / "scripts" / "make_rkn_samples.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for path in module.write(tmp_path):
        relative = path.relative_to(tmp_path)
        assert (SAMPLES_DIR / "rkn_registry" / relative).read_bytes() == path.read_bytes(), relative
