"""Fixtures: the models written by capi_test_models (FASTINTENT_TEST_MODELS, set by
run_tests.sh): tiny.fim (alarm, music, weather; a component registry in which weather depends on
alarm), tiny_plain.fim (no registry), tiny_other.fim (meteo, musique, reveil)."""
from __future__ import annotations

import os
import pathlib

import pytest

import fastintent


@pytest.fixture(scope="session")
def models_dir() -> pathlib.Path:
    d = os.environ.get("FASTINTENT_TEST_MODELS")
    if not d:
        pytest.fail("FASTINTENT_TEST_MODELS is not set (run bindings/python/run_tests.sh)")
    return pathlib.Path(d)


@pytest.fixture()
def model(models_dir: pathlib.Path) -> fastintent.Model:
    return fastintent.Model.load(models_dir / "tiny.fim")


@pytest.fixture()
def plain(models_dir: pathlib.Path) -> fastintent.Model:
    return fastintent.Model.load(models_dir / "tiny_plain.fim")


@pytest.fixture()
def other(models_dir: pathlib.Path) -> fastintent.Model:
    return fastintent.Model.load(models_dir / "tiny_other.fim")
