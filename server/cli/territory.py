"""`cdv init`: the folder a territory works in, and its README of the next commands."""

from __future__ import annotations

from pathlib import Path

from server.extract import SLUG


class InitError(Exception):
    """The folder cannot be made: a plain message for people."""


README = """\
# {territory}: the protocol of a contrat de ville, as linked open data

This folder is {territory}'s cdv-graph project: run every command from here (`cdv` reads the folder it
runs in, or `--root`). The ontology, the shapes and the named queries come with the kit.

| path | what it holds |
|---|---|
| `data/{territory}/<document>/` | one document: its draft graph, your enrichment, its source text |
| `queries/` | your own named queries (`*.rq`), added to the kit's (`cdv query` lists them all) |
| `build/` | the published builds (`cdv build` writes them, `cdv serve` serves the latest) |

The next commands, with the plain text of the protocol in `protocole.txt` (UTF-8, one printed line per line,
e.g. `pdftotext -layout protocole.pdf protocole.txt`):

```sh
cdv extract protocole.txt --territory {territory} --into data
cdv validate
cdv build
cdv serve
```

1. `cdv extract … --into data` writes `data/{territory}/<document>/draft.ttl` and copies the text beside
   it as `{territory}-<document>.txt`. Read the report it prints: each note gives a line it could not place.
2. Correct the draft where the text was misread, and write what the text does not print (the commune of
   each priority neighbourhood, which the shapes require) in `data/{territory}/<document>/enrichment.ttl`.
3. `cdv validate` checks the documents against the shapes; fix each violation it lists.
4. `cdv build` publishes the graph in `build/`; `cdv serve` serves it on http://127.0.0.1:8000/.
"""

GITIGNORE = "/build/\n"


def init_folder(folder: Path, territory: str) -> list[Path]:
    """Write FOLDER/README.md, .gitignore, data/<territory>/ and queries/; the files written.
    InitError for a bad slug or a folder that already holds a project's files (nothing is overwritten)."""
    if not SLUG.match(territory):
        raise InitError(f"territory {territory!r} is not a slug (lower-case ASCII words joined by '-')")
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder} is a file, not a folder")
    files = {folder / "README.md": README.format(territory=territory), folder / ".gitignore": GITIGNORE}
    present = [str(path) for path in (*files, folder / "data") if path.exists()]
    if present:
        raise InitError(f"{', '.join(present)} already exist(s): nothing was written")
    try:
        for sub in (folder / "data" / territory, folder / "queries"):
            sub.mkdir(parents=True, exist_ok=True)
        for path, text in files.items():
            path.write_text(text, "utf-8")
    except OSError as err:
        raise InitError(f"cannot write {folder}: {err.strerror or err}") from None
    return [*files, folder / "data" / territory, folder / "queries"]
