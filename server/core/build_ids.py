"""Pure: build ids, `20250101T120000123456Z-<hash>`: when a build was made, and a digest of what it holds."""

from __future__ import annotations

from datetime import UTC, datetime

TIME_FORMAT = "%Y%m%dT%H%M%S%fZ"


def new_build_id(made: datetime, digest: str) -> str:
    """The id of a build made at `made` (UTC) from content with this digest."""
    return f"{made.astimezone(UTC):{TIME_FORMAT}}-{digest[:10]}"


def built_at(build_id: str) -> datetime | None:
    """When a build was made, read from its id; None for other ids (a remote engine's own, say)."""
    try:
        return datetime.strptime(build_id.split("-", 1)[0], TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
