"""Settings: defaults, overridden by CDV_* environment variables or by a mapping.

No I/O but two looks at the file system: the current directory (the default project folder) and whether the
project has an ontology/, shapes/ or queries/ folder of its own (else the ones packaged with the kit are used).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

# The checkout this module sits in (development tools and tests); never a default of an installed kit.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The ontology, shapes and named queries shipped inside the package (server/kit/: links to the top-level
# folders in a checkout, files in a wheel).
PACKAGED = Path(__file__).resolve().parents[1] / "kit"
PATH_FIELDS = {"project_root", "build_dir", "store_path"}


def own_or_packaged(project_root: Path, name: str) -> Path:
    """The project's folder `name` if it has one, else the kit's packaged one."""
    own = project_root / name
    return own if own.is_dir() else PACKAGED / name


@dataclass(frozen=True)
class Settings:
    """Everything the app, the build and the CLI can be configured with."""

    base_iri: str = "https://w3id.org/cdv/"
    project_root: Path = Path()  # load_settings: the current directory, --root or CDV_PROJECT_ROOT
    build_dir: Path = Path("build")  # load_settings: <project_root>/build unless set
    store_path: Path | None = None  # explicit store; default: the current release of build_dir
    query_timeout: float = 30.0  # seconds a SPARQL query may run
    query_workers: int = 2  # query processes of the server, shared by its workers (engine/query_pool.py)
    # the malloc of the query processes: an allocator library's name (ctypes.util.find_library) or "system"
    query_allocator: str = "mimalloc"
    max_query_length: int = 100_000  # characters of SPARQL text
    max_body_bytes: int = 1_048_576  # request body limit
    # Each client's share (server/core/fairness.py): queries at once (0: one fewer than query_workers, at
    # least 1, so that a client never holds every query process of the server) and seconds of query time per
    # minute (one query at the default time limit).
    client_queries: int = 0
    client_budget: float = 30.0
    trusted_proxies: int = 0  # proxies in front that set X-Forwarded-For (0: the peer address is the client)
    cache_bytes: int = 256 * 1024 * 1024  # shared result cache bound (server/web/result_cache.py); 0: off
    choices_bound: int = 50  # allowed values a named query's parameter lists; past them, a lookup
    endpoint: str | None = None  # a remote SPARQL 1.1 endpoint to serve instead of the embedded store
    public_url: str | None = (
        None  # e.g. https://data.example.org/ behind a proxy; default: the request's host
    )

    @property
    def client_in_flight(self) -> int:
        """The queries a client may have running at once: client_queries, or derived from the pool."""
        return self.client_queries or max(1, self.query_workers - 1)

    @property
    def ontology_dir(self) -> Path:
        return own_or_packaged(self.project_root, "ontology")

    @property
    def data_dir(self) -> Path:
        return self.project_root / "data"

    @property
    def shapes_dir(self) -> Path:
        return own_or_packaged(self.project_root, "shapes")

    @property
    def queries_dirs(self) -> tuple[Path, ...]:
        """The packaged named queries, then the project's own queries/ (added to them), if it has one."""
        own = self.project_root / "queries"
        packaged = PACKAGED / "queries"
        if own.is_dir() and own.resolve() != packaged.resolve():
            return (packaged, own)
        return (packaged,)

    @property
    def sources_dir(self) -> Path:
        return self.data_dir / "sources"

    @property
    def id_base(self) -> str:
        return self.base_iri + "id/"

    @property
    def graph_base(self) -> str:
        return self.base_iri + "graph/"

    @property
    def ontology_iri(self) -> str:
        return self.base_iri + "ontology"


def _coerce(value: str, current: Any, name: str) -> Any:
    """Turn an environment string into the type of the field's default."""
    if name in PATH_FIELDS:
        return Path(value)
    if isinstance(current, bool):
        return value.lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    return value


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then CDV_<FIELD> variables from `environ`, then explicit `overrides`."""
    env = os.environ if environ is None else environ
    settings = Settings()
    changes: dict[str, Any] = {}
    for f in fields(Settings):
        raw = env.get("CDV_" + f.name.upper())
        if raw:
            changes[f.name] = _coerce(raw, getattr(settings, f.name), f.name)
    for key, value in (overrides or {}).items():
        if key not in {f.name for f in fields(Settings)}:
            raise KeyError(f"unknown setting {key!r}")
        changes[key] = Path(value) if key in PATH_FIELDS and value else value
    root = Path(changes.get("project_root") or Path.cwd()).absolute()
    changes["project_root"] = root
    changes.setdefault("build_dir", root / "build")  # never inside the installed package
    return replace(settings, **changes)
