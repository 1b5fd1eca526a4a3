"""A copy of a document of data/ under another territory, as a second territory would publish it: its own IRIs
and its own source text (two documents may not name the same text: the rule TexteSourcePropre)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from server.core.config import PROJECT_ROOT

FICHIER = re.compile(r'cdv:fichier "(?P<name>[^"]+)"')


def copy_document(source: Path, target: Path, territory: str) -> Path:
    """Copy the Turtle files of `source` (data/<territoire>/<document>/) into `target` with the IRIs of
    `territory`, and its source text beside them under a name of its own; returns `target`."""
    old = source.parent.name
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.ttl"):
        text = path.read_text("utf-8").replace(f"/id/{old}/", f"/id/{territory}/")
        match = FICHIER.search(text)
        if match:
            own = f"{territory}-{source.name}.txt"
            shutil.copy(_text_of(source, match["name"]), target / own)
            text = text.replace(match[0], f'cdv:fichier "{own}"')
        (target / path.name).write_text(text, "utf-8")
    return target


def _text_of(document: Path, name: str) -> Path:
    """The source text a document names: beside its files, else in data/sources/."""
    beside = document / name
    return beside if beside.is_file() else PROJECT_ROOT / "data" / "sources" / name
