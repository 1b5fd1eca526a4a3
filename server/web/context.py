"""What the code of a request reads from the running app: its settings, its engine, the release it serves."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from server.core.config import Settings
from server.core.errors import Unavailable
from server.engine import Engine, open_engine
from server.engine.release import MANIFEST, NoRelease, Release, current_release, read_release


def settings() -> Settings:
    """The settings of the running app."""
    return current_app.config["CDV"]


def engine() -> Engine:
    """The engine of the running app, opened once per process (gunicorn workers fork after start)."""
    return engine_of(current_app)


def engine_of(app: Flask) -> Engine:
    """The engine of `app` in this process (for code that runs outside a request context)."""
    state = app.extensions.setdefault("cdv.engine", {})
    pid = os.getpid()
    if state.get("pid") != pid:
        state["engine"] = open_engine(app.config["CDV"])
        state["pid"] = pid
    return state["engine"]


def serving_release() -> Release:
    """The release of the store this process serves (a newer build may be published but not yet loaded)."""
    try:
        store = engine()
        if hasattr(store, "local_release"):  # a remote engine: the local files of its build, or a 404 why
            return store.local_release()
        path = getattr(store, "path", None)
        if path is not None and (Path(path).parent / MANIFEST).is_file():
            return read_release(Path(path).parent)
        return current_release(settings().build_dir)
    except (NoRelease, OSError) as err:
        raise Unavailable(f"no published build: {err}") from None


def serving_manifest() -> Mapping[str, Any]:
    """The manifest of the serving release; empty when its files are not here (figures are then counted)."""
    try:
        return serving_release().manifest
    except Unavailable:
        return {}
