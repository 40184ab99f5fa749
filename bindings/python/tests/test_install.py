"""The package as installed: imported from site-packages (not the sources), self-contained
(libfastintent.so.1 beside the extension), documented."""
from __future__ import annotations

import os
import pathlib
import pydoc

import fastintent


def test_imported_from_the_installed_package() -> None:
    here = pathlib.Path(fastintent.__file__).resolve().parent
    source = os.environ.get("FASTINTENT_SOURCE_DIR")  # the package's sources (bindings/python/src)
    assert "site-packages" in here.parts
    if source:
        assert not str(here).startswith(str(pathlib.Path(source).resolve()))
    assert list(here.glob("libfastintent.so.1")), list(here.iterdir())
    assert list(here.glob("_native*.so"))
    assert (here / "py.typed").exists()


def test_versions_and_help() -> None:
    assert fastintent.API_VERSION[0] == 1
    assert fastintent.LIBRARY_VERSION.startswith("fastintent ")
    text = pydoc.render_doc(fastintent, renderer=pydoc.plaintext)
    for name in ("Model", "Engine", "predict_batch", "FastIntentError", "call_soon_threadsafe"):
        assert name in text, name
