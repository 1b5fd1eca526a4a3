"""`cdv serve`: the app under gunicorn (production) or Flask's development server (`--dev`).

gunicorn runs through its Python API: one master, `workers` processes forked from it, each with `threads`
threads (the gthread worker: a slow client or a long query does not hold a whole process). The master keeps
the server's one pool of query processes (server/engine/query_pool.py), started before the workers fork;
every worker sends its queries to it. Each worker opens the published store read-only for its own queries
(the pages). `kill -HUP <master>` restarts the workers gracefully. The master imports no web stack and no
engine (preload_app off: 35 MiB less): each worker imports and builds the app after the fork
(GunicornApp.load). What the master makes for them is the query pool and the fair share's table
(server/web/share_table.py), so that every worker, later ones included, counts each client on one table.

A new build is served without anyone sending a signal: a thread of the master (started by gunicorn's
`when_ready` hook) looks at the release `<build_dir>/current` points to about once a second (`cdv build`
swaps that link atomically). When it changes, the thread starts a query pool on the new store, has gunicorn
start new workers, which open the new store, waits until they take requests, then has gunicorn stop the old
ones gracefully (_replace_workers), and the old pool once they have exited:
they finish their in-flight requests, and a request arriving on one of their kept-alive connections within
2 s is answered with `Connection: close`. By hand because gunicorn's own `reload` option restarts workers
abruptly on changes of Python files (for development), and SIGHUP stops the old workers before the new
ones are ready.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

from server.core.config import Settings
from server.engine import query_pool
from server.engine.release import CURRENT, MANIFEST, STORE
from server.web.share_table import FairShare, limits

if TYPE_CHECKING:  # the master imports no web stack: each worker imports the app after the fork (load)
    from flask import Flask

LOG_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s"
MAX_REQUEST_LINE = 8190  # gunicorn's largest bounded value: longer GET queries must be POSTed (README)
WATCH_INTERVAL = 1.0  # seconds between two looks at <build_dir>/current
READY_TIMEOUT = 120.0  # seconds new workers may take to open a new build before the old ones stop anyway


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
        "preload_app": False,  # the master stays small: each worker imports and builds the app (load)
        "accesslog": None,  # the app writes one line per request (server/web/system.py)
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "cdv-graph",
        "control_socket_disable": True,  # no gunicornc; several servers on one machine must not share it
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
        "when_ready": partial(_when_ready, settings),
    }


def watched_build_dir(settings: Settings) -> Path | None:
    """The build folder whose publications reload the workers; None for an explicit store or a remote one."""
    if settings.store_path is not None or getattr(settings, "endpoint", None):
        return None
    return settings.build_dir


def published_target(build_dir: Path) -> Path | None:
    """The release folder `<build_dir>/current` points to, when it is a complete release."""
    try:
        target = (build_dir / CURRENT).resolve(strict=True)
    except OSError:  # nothing published yet, or a dangling link
        return None
    return target if (target / MANIFEST).is_file() else None


def served_store(settings: Settings) -> Path | None:
    """The embedded store the server starts on: the explicit one, else the published release's (None: remote)."""
    if getattr(settings, "endpoint", None):
        return None
    if settings.store_path is not None:
        return settings.store_path
    target = published_target(settings.build_dir)
    return target / STORE if target is not None else None


def _when_ready(settings: Settings, server: Any) -> None:
    """gunicorn `when_ready` hook (master, before the first workers fork): start the server's query pool on the
    served store, and the thread that replaces the workers and the pool on a new publication."""
    store = served_store(settings)
    if store is not None and settings.query_workers > 0:
        query_pool.keep(store, settings.query_workers, settings.query_allocator)
    build_dir = watched_build_dir(settings)
    if build_dir is None:
        return
    thread = threading.Thread(
        target=_watch,
        args=(server, build_dir, WATCH_INTERVAL, settings),
        name="cdv-publication-watcher",
        daemon=True,
    )
    thread.start()


def _watch(arbiter: Any, build_dir: Path, interval: float, settings: Settings) -> None:
    """Replace the workers each time `current` points to another complete release (runs forever).

    The new release gets its own query pool before the new workers fork (they find it by its store); the
    previous pool stops once the old workers, which may still be finishing queries on it, have all exited.
    """
    log = logging.getLogger("cdv.serve")
    served = published_target(build_dir)
    stop = threading.Event()  # never set: waits `interval` between looks
    while not stop.wait(interval):
        target = published_target(build_dir)
        if target is None or target == served:
            continue
        log.info("new build published (%s): replacing the workers", target.name)
        previous = query_pool.kept(served / STORE) if served is not None else None
        served = target
        started = time.monotonic()
        if settings.query_workers > 0:
            query_pool.keep(target / STORE, settings.query_workers, settings.query_allocator).warm_up(
                READY_TIMEOUT
            )
        old = set(arbiter.WORKERS)
        _replace_workers(arbiter, READY_TIMEOUT)
        log.info("workers replaced in %.1f s", time.monotonic() - started)
        if previous is not None:
            threading.Thread(
                target=_retire, args=(arbiter, old, previous), name="cdv-pool-retirement", daemon=True
            ).start()


def _retire(arbiter: Any, old: set[int], pool: query_pool.QueryPool) -> None:
    """Stop a previous release's query pool once none of the workers that used it runs any more."""
    _wait_until(lambda: not old & set(arbiter.WORKERS), arbiter.cfg.graceful_timeout + 10, "the old workers")
    pool.close()


def _replace_workers(arbiter: Any, timeout: float) -> None:
    """Start as many new workers as run now, wait until they take requests, then stop the old ones gracefully.

    Through gunicorn's own signals, one at a time: TTIN adds a worker (it opens the newly published store),
    TTOU removes one, and gunicorn always stops the oldest. Unlike SIGHUP, which stops the old workers as soon
    as the new ones are forked, the old workers serve until the new ones are ready (opening the store and
    starting the query processes takes seconds on a busy machine): no pause in service, at the cost of twice
    the workers for that time.
    """
    count = arbiter.num_workers
    old = set(arbiter.WORKERS)
    for signum, step in ((signal.SIGTTIN, 1), (signal.SIGTTOU, -1)):
        for _ in range(count):
            expected = arbiter.num_workers + step
            os.kill(arbiter.pid, signum)
            _wait_until(lambda expected=expected: arbiter.num_workers == expected, 10, "gunicorn to resize")
        if signum == signal.SIGTTIN:
            _wait_until(lambda: _new_workers_ready(arbiter, old, count), timeout, "the new workers")


def _new_workers_ready(arbiter: Any, old: set[int], count: int) -> bool:
    """Whether `count` workers not in `old` run and have each reported alive from their request loop."""
    ready = 0
    for pid, worker in list(arbiter.WORKERS.items()):
        if pid in old:
            continue
        try:
            # gunicorn's heartbeat: the loop that takes requests, entered after post_worker_init, sets the
            # file's time to time.monotonic(); before that it holds the file's creation (wall clock) time.
            if abs(worker.tmp.last_update() - time.monotonic()) < READY_TIMEOUT:
                ready += 1
        except (OSError, ValueError):  # reaped meanwhile
            continue
    return ready >= count


def _wait_until(condition: Any, timeout: float, what: str) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass (then go on: never block the watcher)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    logging.getLogger("cdv.serve").warning("waited %s s for %s: going on", timeout, what)
    return False


def _post_worker_init(worker: Any) -> None:
    """Open the store and start the query children of this worker before it takes requests."""
    app: Flask = worker.wsgi
    from server.core.errors import DomainError
    from server.engine.release import NoRelease
    from server.web.context import engine

    with app.app_context():
        try:
            engine().warm_up()
        except (
            NoRelease,
            DomainError,
            OSError,
        ) as err:  # 503 from /health and /sparql until a build is published
            logging.getLogger("cdv").warning("no store to serve yet: %s", err)


def _worker_exit(server: Any, worker: Any) -> None:
    """Stop this worker's query children."""
    state = worker.wsgi.extensions.get("cdv.engine", {}) if worker.wsgi else {}
    if "engine" in state:
        state["engine"].close()


class GunicornApp(BaseApplication):
    """gunicorn configured from code, serving `create_app(settings)` built in each worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        # made here, in the master, so that every worker it forks (later ones included) counts on one table
        self._fair_share = FairShare(limits(settings))
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # e.g. control_socket_disable: recent gunicorn versions only
                self.cfg.set(key, value)

    def load(self) -> Flask:
        from server.web.app import create_app

        return create_app(self._settings, self._fair_share)


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
        from server.web.app import create_app

        create_app(settings).run(host=options.host, port=options.port, threaded=True, use_reloader=False)
        return
    GunicornApp(settings, gunicorn_options(options, settings)).run()
