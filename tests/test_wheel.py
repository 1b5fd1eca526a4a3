"""The kit as a territory's officer gets it: the wheel built from the checkout, installed (not editable) in a
fresh virtual environment outside the repository, then the README's walk-through followed literally in an
empty folder — init, extract, validate, build, serve — and the served graph read over HTTP."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from server.core.config import PROJECT_ROOT
from tests.servers import free_port

pytestmark = pytest.mark.live

FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "protocols"
WALKTHROUGH = re.compile(r"<!-- walkthrough -->\n```sh\n(.*?)```\n<!-- /walkthrough -->", re.S)
TERRITORY, DOCUMENT = "argenval", "avenant-2019-2022"


def walkthrough() -> list[str]:
    """The command lines of the README's walk-through, as printed."""
    readme = (PROJECT_ROOT / "README.md").read_text("utf-8")
    found = WALKTHROUGH.search(readme)
    assert found, "README.md has no walk-through block"
    return [line.strip() for line in found.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel . --no-deps` of the checkout; setuptools must not warn."""
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(PROJECT_ROOT), "--no-deps", "-w", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(done.stdout, done.stderr, sep="\n")
    assert done.returncode == 0, done.stderr
    assert "BuildBackendWarning" not in done.stderr and "SetuptoolsDeprecationWarning" not in done.stderr
    return next(out.glob("cdv_graph-*.whl"))


@pytest.mark.parametrize(
    "member",
    [
        "server/kit/ontology/cdv.ttl",
        "server/kit/ontology/piliers.ttl",
        "server/kit/shapes/cdv-shapes.ttl",
        "server/kit/shapes/dcat-ap.ttl",
        "server/kit/queries/measures-per-axis.rq",
        "server/kit/queries/quality-duplicate-measure-numbers.rq",
        "server/web/templates/resource.html",
        "server/web/static/cdv.css",
        "server/build/__init__.py",
        "cdv_graph-0.1.0.dist-info/licenses/LICENSE",
        "cdv_graph-0.1.0.dist-info/licenses/LICENSES.md",
    ],
)
def test_the_wheel_carries_the_kit(wheel: Path, member: str) -> None:
    assert member in zipfile.ZipFile(wheel).namelist()


def test_the_wheel_metadata_states_licence_and_systems(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode("utf-8")
    assert "License-Expression: MIT AND etalab-2.0" in metadata
    assert "Classifier: Operating System :: POSIX :: Linux" in metadata


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the repository (the dependencies come from the package index)."""
    folder = tmp_path_factory.mktemp("venv") / "cdv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=120)
    return folder


def environment(venv: Path) -> dict[str, str]:
    """The shell of someone who activated the venv: its bin first, no CDV_* setting, not in the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDV_") and k != "PYTHONPATH"}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def run(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(line, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    print(f"$ {line}   (in {cwd.name}/, exit {done.returncode})")
    print("\n".join(x for x in (done.stdout + done.stderr).splitlines() if "WARNING: Location" not in x))
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def served(wheel: Path, venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Follow the README's walk-through in an empty folder; yield the served URL and the territory folder.
    Between its commands the test does what the README asks of a person: put the protocol's text in place,
    write the enrichment the shapes require; `cdv serve` gets a free port."""
    env, cwd = environment(venv), tmp_path_factory.mktemp("empty")
    shutil.copy(wheel, cwd / wheel.name)
    lines = walkthrough()
    assert [line.split()[:2] for line in lines] == [
        ["pip", "install"],
        ["cdv", "init"],
        ["cd", TERRITORY],
        ["cdv", "extract"],
        ["cdv", "validate"],
        ["cdv", "build"],
        ["cdv", "serve"],
    ]
    assert lines[0] == f"pip install {wheel.name}"
    for line in lines[:-1]:
        words = shlex.split(line)
        if words[0] == "cd":
            cwd = cwd / words[1]
            shutil.copy(FIXTURE / f"{TERRITORY}.txt", cwd / "protocole.txt")  # step 3: the text
            continue
        if words[:2] == ["cdv", "validate"]:  # step 5: what the text does not print
            enrichment = cwd / "data" / TERRITORY / DOCUMENT / "enrichment.ttl"
            shutil.copy(FIXTURE / f"{TERRITORY}.enrichment.ttl", enrichment)
        run(line, cwd, env)
    assert not (cwd / "build").is_symlink() and (cwd / "build" / "current" / "store").is_dir()
    port = free_port()
    command = [*shlex.split(lines[-1]), "--port", str(port)]
    log = (cwd / "serve.log").open("wb")
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(url + "/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still warming up
                pass
            time.sleep(0.3)
        print(f"$ {lines[-1]} --port {port}   (serving at {url})")
        assert process.poll() is None, (cwd / "serve.log").read_text("utf-8", errors="replace")
        yield url, cwd
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_the_walkthrough_serves_the_graph(served: tuple[str, Path]) -> None:
    url, _ = served
    health = requests.get(url + "/health", timeout=10)
    print(f"GET /health → {health.status_code} {health.text.strip()}")
    assert health.status_code == 200


def test_a_measure_page_quotes_its_source_text(served: tuple[str, Path]) -> None:
    url, folder = served
    draft = (folder / "data" / TERRITORY / DOCUMENT / "draft.ttl").read_text("utf-8")
    passage = re.search(rf"{DOCUMENT}/mesure/1> a cdv:Mesure ;.*?source#L(\d+)-L(\d+)>", draft, re.S)
    assert passage, "measure 1 has no passage in the draft"
    text = (folder / "protocole.txt").read_text("utf-8").splitlines()
    quoted = text[int(passage.group(1)) - 1].strip()
    page = requests.get(
        f"{url}/id/{TERRITORY}/{DOCUMENT}/mesure/1", headers={"Accept": "text/html"}, timeout=10
    )
    print(
        f"GET /id/{TERRITORY}/{DOCUMENT}/mesure/1 → {page.status_code}; quotes line {passage.group(1)}: {quoted!r}"
    )
    assert page.status_code == 200
    assert "Dans le texte source" in page.text
    assert quoted.replace("'", "&#39;") in page.text or quoted in page.text
    source = requests.get(f"{url}/sources/{TERRITORY}-{DOCUMENT}.txt", timeout=10)
    assert source.status_code == 200 and source.text.splitlines()[int(passage.group(1)) - 1].strip() == quoted
