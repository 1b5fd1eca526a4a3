"""cdv-graph: the knowledge graph of France's contrats de ville, served as linked open data."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from .config import Settings, load_settings
from .errors import ClientError, register_error_handlers
from .http_cache import init_http_cache
from .release import MANIFEST, NoRelease, Release, current_release, read_release
from .result_cache import init_result_cache
from .store import Backend, EmbeddedStore

__version__ = "0.1.0"


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, store access, blueprints, error handlers."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    app = Flask(__name__)
    app.config["CDV"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    register_error_handlers(app)
    init_result_cache(app)  # first: the access log (system.init_app) wraps it and logs hits too
    _register_blueprints(app)
    init_http_cache(app)
    return app


def _register_blueprints(app: Flask) -> None:
    """Each blueprint owns one part of the service."""
    from . import assets, catalog, pages, queries_api, query_pages, search, sparql, system

    system.init_app(app)  # /health, CORS, access log
    for module in (queries_api, query_pages, pages, catalog, sparql, search, assets):
        app.register_blueprint(module.bp)


def settings() -> Settings:
    """The settings of the running app."""
    return current_app.config["CDV"]


def backend() -> Backend:
    """The store of the running app, opened once per process (gunicorn workers fork after start)."""
    state = current_app.extensions.setdefault("cdv.backend", {})
    pid = os.getpid()
    if state.get("pid") != pid:
        cfg = settings()
        release = current_release(cfg.build_dir) if cfg.store_path is None and not cfg.endpoint else None
        if cfg.endpoint:
            from .remote import open_remote

            state["backend"] = open_remote(cfg)
        elif release is not None:
            state["backend"] = EmbeddedStore.open_release(release)
        else:
            import pyoxigraph as ox

            state["backend"] = EmbeddedStore(ox.Store.read_only(str(cfg.store_path)), "store", cfg.store_path)
        state["pid"] = pid
    return state["backend"]


def serving_release() -> Release:
    """The release of the store this process serves (a newer build may be published but not yet loaded)."""
    try:
        store = backend()
        if hasattr(store, "local_release"):  # a remote engine: the local files of its build, or a 404 why
            return store.local_release()
        path = getattr(store, "path", None)
        if path is not None and (Path(path).parent / MANIFEST).is_file():
            return read_release(Path(path).parent)
        return current_release(settings().build_dir)
    except (NoRelease, OSError) as err:
        raise ClientError(f"no published build: {err}", 503) from None


def serving_manifest() -> Mapping[str, Any]:
    """The manifest of the serving release; empty when its files are not here (figures are then counted)."""
    try:
        return serving_release().manifest
    except ClientError:
        return {}
