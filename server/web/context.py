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
from server.engine.shared_descriptions import SharedDescriptions, shared_descriptions_of


def settings() -> Settings:
    """The settings of the running app."""
    return current_app.config["CDV"]


def engine() -> Engine:
    """The engine of the running app, opened once per process (gunicorn workers fork after start)."""
    return engine_of(current_app)


def engine_of(app: Flask) -> Engine:
    """The engine of `app` in this process (for code that runs outside a request context)."""
    return _engine_state(app)["engine"]


def _engine_state(app: Flask) -> dict[str, Any]:
    """The engine of this process and what is kept with it for its life (one build: see serve.py)."""
    state = app.extensions.setdefault("cdv.engine", {})
    pid = os.getpid()
    if state.get("pid") != pid:
        state.clear()
        state["engine"] = open_engine(app.config["CDV"])
        state["pid"] = pid
    return state


def known_terms() -> dict[str, Any]:
    """The label triples of the vocabulary terms the pages of this process have named so far: they change
    only with the build, and a process serves one build (`describe.label_triples` fills it)."""
    return _engine_state(current_app).setdefault("terms", {})


def shared_descriptions() -> SharedDescriptions | None:
    """The pages the build computed for the resources named in several documents (None: pages ask the
    store), opened once per process and build (a remote engine may be reloaded with another build)."""
    store = engine()
    state = current_app.extensions.setdefault("cdv.shared", {})
    key = (os.getpid(), store.build_id)
    if key not in state:
        state.clear()  # an older build's pages are no longer served
        state[key] = shared_descriptions_of(store)
    return state[key]


def serving_release() -> Release:
    """The release of the store this process serves (a newer build may be published but not yet loaded)."""
    try:
        store = engine()
        if hasattr(store, "local_release"):  # a remote engine: the local files of its build, or a 404 why
            return store.local_release()
        path = getattr(store, "path", None)
        if path is not None:
            own = _own_release(Path(path).parent)
            if own is not None:
                return own
        return current_release(settings().build_dir)
    except (NoRelease, OSError) as err:
        raise Unavailable(f"no published build: {err}") from None


def _own_release(folder: Path) -> Release | None:
    """The release folder an embedded store sits in, read once per engine: a published release never
    changes, and pages ask for it on every request (their source texts)."""
    state = _engine_state(current_app)
    if state.get("release") is None and (folder / MANIFEST).is_file():
        state["release"] = read_release(folder)
    return state.get("release")


def serving_manifest() -> Mapping[str, Any]:
    """The manifest of the serving release; empty when its files are not here (figures are then counted)."""
    try:
        return serving_release().manifest
    except Unavailable:
        return {}
