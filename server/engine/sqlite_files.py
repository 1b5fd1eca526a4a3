"""The SQLite files a build writes beside its store (the search index, the shared resources' pages).

Written once, atomically, then only read: `written` makes one in a temporary file renamed into place when
complete, with its schema and the build id; `ReadOnlyFile` reads one with a connection per thread (sqlite3
connections are not shared between threads), opened `immutable` (no lock, no journal: the file never
changes once published).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def written(path: Path, schema: str, build_id: str) -> Iterator[sqlite3.Connection]:
    """A connection to a new file for `path` holding `schema` and a `meta` table (created here) with the
    build id; committed and renamed to `path` when the block ends without error, removed otherwise."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n" + schema)
        db.execute("INSERT INTO meta VALUES ('build_id', ?)", (build_id,))
        yield db
        db.commit()
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
    db.close()
    os.replace(tmp, path)


class ReadOnlyFile:
    """A published SQLite file, one read-only connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
            self._local.db = db
        return db

    @property
    def build_id(self) -> str:
        """The id of the build that wrote the file."""
        return str(self._db().execute("SELECT value FROM meta WHERE key = 'build_id'").fetchone()[0])
