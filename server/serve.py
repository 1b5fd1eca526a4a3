"""`cdv serve`: the app under gunicorn (production) or Flask's development server (`--dev`).

gunicorn runs through its Python API: one master, `workers` processes forked from it, each with `threads`
threads (the gthread worker: a slow client or a long query does not hold a whole process) and its own pool
of query children (server/executor.py), started right after the fork. Each worker opens the published store
read-only for itself. `kill -HUP <master>` restarts the workers gracefully, e.g. to serve a new build.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from . import create_app
from .config import Settings

LOG_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
MAX_REQUEST_LINE = 8190  # gunicorn's largest bounded value: longer GET queries must be POSTed (README)


@dataclass(frozen=True)
class ServeOptions:
    """How to run the server; the query time limit and pool size are in Settings."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 8


def gunicorn_options(options: ServeOptions, settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for the service (pure, tested)."""
    return {
        "bind": f"{options.host}:{options.port}",
        "workers": options.workers,
        "worker_class": "gthread",
        "threads": options.threads,
        "keepalive": 5,
        # gthread workers heartbeat from their main thread, so a long request never trips this; it only
        # catches a stuck worker.
        "timeout": max(60, int(settings.query_timeout) + 30),
        "graceful_timeout": int(settings.query_timeout) + 5,
        "limit_request_line": MAX_REQUEST_LINE,
        "preload_app": True,
        "accesslog": None,  # the app writes one line per request (server/system.py)
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "cdv-graph",
        "control_socket_disable": True,  # no gunicornc; several servers on one machine must not share it
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
    }


def _post_worker_init(worker: Any) -> None:
    """Open the store and start the query children of this worker before it takes requests."""
    app: Flask = worker.wsgi
    from .errors import ClientError
    from .executor import ProcessPool
    from .sparql import query_executor

    with app.app_context():
        try:
            executor = query_executor()
            if isinstance(executor, ProcessPool):
                executor.warm_up()
        except (ClientError, OSError) as err:  # 503 from /health and /sparql until a build is published
            logging.getLogger("cdv").warning("no store to serve yet: %s", err)


def _worker_exit(server: Any, worker: Any) -> None:
    """Stop this worker's query children."""
    state = worker.wsgi.extensions.get("cdv.executor", {}) if worker.wsgi else {}
    if "executor" in state:
        state["executor"].close()


class GunicornApp(BaseApplication):
    """gunicorn configured from code, serving `create_app(settings)`."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # e.g. control_socket_disable: recent gunicorn versions only
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_app(self._settings)


def configure_logging() -> None:
    """The app's loggers ("cdv…") on stderr, next to gunicorn's own lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S %z"))
    logger = logging.getLogger("cdv")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def serve(settings: Settings, options: ServeOptions, dev: bool = False) -> None:
    """Run the service until interrupted."""
    configure_logging()
    if dev:
        create_app(settings).run(host=options.host, port=options.port, threaded=True, use_reloader=False)
        return
    GunicornApp(settings, gunicorn_options(options, settings)).run()
