"""Blueprint: front-end packages installed by npm into node_modules/, served by Flask so pages work offline.

`/assets/<package>/<path>` serves a file of a package that `package.json` lists in its dependencies (scoped
names included: `/assets/@zazuko/yasgui/build/yasgui.min.js`); nothing else of node_modules is reachable
and nothing is copied into the repository. Templates call `asset_url(package, path)` or
`package_url(package)`, which answer None when the package is not installed, so a page can fall back to
plain HTML.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_from_directory

from server.web.context import settings

bp = Blueprint("assets", __name__)

MAX_AGE = 86_400  # seconds: package versions are pinned in package-lock.json; ETags revalidate after that


def node_modules() -> Path:
    """Where npm installed the packages."""
    return settings().project_root / "node_modules"


@lru_cache(maxsize=4)
def _declared(package_json: Path, mtime_ns: int) -> frozenset[str]:
    """The dependency names of a package.json (cached per file version)."""
    data = json.loads(package_json.read_text("utf-8"))
    return frozenset(data.get("dependencies", {}))


def declared_packages(project_root: Path | None = None) -> frozenset[str]:
    """The npm packages the project declares; empty without package.json."""
    package_json = (project_root or settings().project_root) / "package.json"
    try:
        return _declared(package_json, package_json.stat().st_mtime_ns)
    except (OSError, ValueError):
        return frozenset()


@lru_cache(maxsize=16)
def _installed_version(manifest: Path, mtime_ns: int) -> str:
    try:
        return str(json.loads(manifest.read_text("utf-8")).get("version", "?"))
    except (OSError, ValueError):
        return "unreadable"


def assets_fingerprint(project_root: Path) -> str:
    """Which declared front-end packages are installed, at which version ("absent" when not).

    A page rendered with YASGUI or Swagger UI differs from its plain fallback: the result cache keys answers
    and the ETags name variants with this, so a page cached before `npm ci` never outlives those assets.
    A few stat calls a request; each version is read once per package.json file version.
    """
    parts = []
    for package in sorted(declared_packages(project_root)):
        manifest = project_root / "node_modules" / package / "package.json"
        try:
            version = _installed_version(manifest, manifest.stat().st_mtime_ns)
        except OSError:
            version = "absent"
        parts.append(f"{package}@{version}")
    return ",".join(parts)


def split_package(path: str) -> tuple[str, str]:
    """`@scope/name/a/b.js` → (`@scope/name`, `a/b.js`); `name/a.js` → (`name`, `a.js`)."""
    parts = path.split("/")
    size = 2 if parts[0].startswith("@") else 1
    return "/".join(parts[:size]), "/".join(parts[size:])


@bp.app_template_global()
def package_url(package: str) -> str | None:
    """The URL prefix (no trailing slash) of an installed, declared npm package; None when not installed."""
    if package not in declared_packages() or not (node_modules() / package / "package.json").is_file():
        return None
    return f"{request.script_root}/assets/{package}"


@bp.app_template_global()
def asset_url(package: str, path: str) -> str | None:
    """The URL of one file of an npm package; None when the package or the file is not installed."""
    prefix = package_url(package)
    if prefix is None or not (node_modules() / package / path).is_file():
        return None
    return f"{prefix}/{path}"


@bp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """A file of a declared package, with caching headers; 404 for anything else."""
    package, inner = split_package(filename)
    if package not in declared_packages() or not inner:
        abort(404)
    return send_from_directory(node_modules() / package, inner, max_age=MAX_AGE)
