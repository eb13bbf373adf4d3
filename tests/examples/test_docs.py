"""Every example in the docs runs, and every output they show is what flexorm answers.

Each page runs top to bottom in a temporary folder holding the demo shop's database as
``shop.db``:

- a block with ``file=NAME`` after its language is written to that file (``--app NAME:flex``
  in a console block then imports it);
- any other ```` ```python ```` block is executed (the page's blocks share one namespace, like a
  tutorial read in order); a ```` ```python served ```` block runs while a real uvicorn server
  serves the app the page built last, its base URL in ``FLEXORM_URL`` (a client's snippet);
- a ```` ```http ```` request block (``METHOD /path``, headers, a blank line, a body) is sent to
  the app the page built last (``app``, else ``flex.app``), with its lifespan running; the block
  after it shows the answer: ```` ```json ```` for a 200 and its body, or ```` ```http ```` for
  ``HTTP/1.1 <status>`` and a body. The string ``"..."`` in a shown body stands for any value;
- a ```` ```console ```` block's ``$ `` lines are run by the shell and their output compared, a
  line ``...`` standing for any lines and ``...`` inside a line for any text.

```` ```shell ```` and ```` ```bash ```` blocks (the README's setup commands, ``flexorm serve``)
are not run here: they start servers or install packages, and the tests of those commands cover
them. The folder also holds the demo's own ``flexorm-demo.db``, for commands that run the demo,
and the environment says ``FLEXORM_DATABASE_URL=sqlite:///shop.db``, ``FLEXORM_TOKEN=s3cret``
and ``FLEXORM_AUTO_UPGRADE=1`` (console commands run without the URL, so that ``flexorm call``
without ``--app`` is the demo).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from flexorm._demo.schema import create_database
from tests._served import served

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@dataclass
class Block:
    lang: str
    text: str
    line: int
    file: str | None = None
    """``file=NAME`` after the language: the block is that file's content."""
    served: bool = False
    """``served`` after the language: the page's app is served over HTTP meanwhile."""


def blocks(page: Path) -> list[Block]:
    source = page.read_text()
    found = []
    for m in FENCE.finditer(source):
        named = re.search(r"file=(\S+)", m.group(2))
        found.append(Block(m.group(1), m.group(3), source.count("\n", 0, m.start()) + 1,
                           named.group(1) if named else None,
                           served="served" in m.group(2).split()))
    return found


def matches(expected: Any, actual: Any) -> bool:
    if expected == "...":
        return True
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(matches(v, actual[k]) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(matches(e, a) for e, a in zip(expected, actual, strict=True)))
    return bool(expected == actual and type(expected) is type(actual))


def line_matches(expected: str, actual: str) -> bool:
    """``...`` inside a shown line stands for any text."""
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("..."))
    return re.fullmatch(pattern, actual.rstrip()) is not None


def lines_match(expected: list[str], actual: list[str]) -> bool:
    """A shown line ``...`` alone stands for any number of lines."""
    if not expected:
        return not actual
    if expected[0].strip() == "...":
        return any(lines_match(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and line_matches(expected[0], actual[0]) and lines_match(
        expected[1:], actual[1:])


class PageRunner:
    def __init__(self, page: Path, folder: Path) -> None:
        self.page = page
        self.folder = folder
        # a real module, as declarative models and annotations look their names up in it
        self.module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")
        self.namespace: dict[str, Any] = self.module.__dict__
        self.client_stack = contextlib.ExitStack()
        self.client: TestClient[Any] | None = None

    def where(self, block: Block) -> str:
        return f"{self.page.relative_to(ROOT)}:{block.line}"

    def app(self) -> Any:
        if "app" in self.namespace:
            return self.namespace["app"]
        return self.namespace["flex"].app

    def http_client(self) -> TestClient[Any]:
        # the app runs (its lifespan reflects the database) from the first request after the
        # python blocks before it, until the next python block changes what the page declares
        if self.client is None:
            self.client = self.client_stack.enter_context(
                TestClient(self.app(), raise_server_exceptions=False))
        return self.client

    def stop_client(self) -> None:
        self.client_stack.close()
        self.client = None

    def run(self) -> None:
        sys.modules[self.module.__name__] = self.module
        try:
            self.run_blocks()
        finally:
            del sys.modules[self.module.__name__]

    def run_blocks(self) -> None:
        with self.client_stack:
            found = blocks(self.page)
            for index, block in enumerate(found):
                if block.file is not None:
                    (self.folder / block.file).write_text(block.text)
                elif block.lang == "python" and block.served:
                    self.stop_client()
                    self.run_served(block)
                elif block.lang == "python":
                    self.stop_client()
                    exec(compile(block.text, self.where(block), "exec"), self.namespace)
                elif block.lang == "http" and not block.text.startswith("HTTP/"):
                    answer = found[index + 1] if index + 1 < len(found) else None
                    assert answer is not None, f"{self.where(block)}: no answer block after it"
                    assert answer.lang in {"json", "http"}, (
                        f"{self.where(block)}: a request needs its answer block after it")
                    self.check_http(block, answer)
                elif block.lang == "console":
                    self.check_console(block)

    def run_served(self, block: Block) -> None:
        with served(self.app()) as base:
            os.environ["FLEXORM_URL"] = base
            try:
                exec(compile(block.text, self.where(block), "exec"), self.namespace)
            finally:
                del os.environ["FLEXORM_URL"]

    def check_http(self, request: Block, answer: Block) -> None:
        head, _, body = request.text.partition("\n\n")
        request_line, *header_lines = head.strip().splitlines()
        method, path = request_line.split()
        headers = dict(line.split(": ", 1) for line in header_lines)
        response = self.http_client().request(method, path, headers=headers,
                                               content=body.strip().encode())
        if answer.lang == "json":
            status, shown = 200, answer.text
        else:
            status_line, _, shown = answer.text.partition("\n")
            status = int(status_line.split()[1])
        assert response.status_code == status, (
            f"{self.where(request)}: status {response.status_code}, docs show {status}: "
            f"{response.text}")
        if shown.strip():
            expected = json.loads(shown)
            assert matches(expected, response.json()), (
                f"{self.where(answer)}: flexorm answers\n"
                f"{json.dumps(response.json(), indent=2)}")

    def check_console(self, block: Block) -> None:
        commands: list[tuple[str, list[str]]] = []
        for line in block.text.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                assert commands, f"{self.where(block)}: output before any $ command"
                commands[-1][1].append(line)
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}"
                                    f"{os.environ.get('PATH', '')}", COLUMNS="100",
                   NO_COLOR="1", TERM="dumb")
        env.pop("FLEXORM_DATABASE_URL", None)
        for command, expected in commands:
            done = subprocess.run(["bash", "-c", command], cwd=self.folder, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=120, check=False)
            actual = done.stdout.splitlines()
            assert lines_match(expected, actual), (
                f"{self.where(block)}: `{command}` printed:\n" + "\n".join(actual))


@pytest.fixture
def shop_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    create_database(f"sqlite:///{tmp_path / 'shop.db'}")
    create_database(f"sqlite:///{tmp_path / 'flexorm-demo.db'}")
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("FLEXORM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FLEXORM_DATABASE_URL", "sqlite:///shop.db")
    monkeypatch.setenv("FLEXORM_TOKEN", "s3cret")
    # flexorm's own tables are created when an app first starts, as if the reader had run
    # getting started's `flexorm db upgrade` (which that page and journal.md show for real)
    monkeypatch.setenv("FLEXORM_AUTO_UPGRADE", "1")
    return tmp_path


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_examples_in_page_run_and_show_real_output(page: Path, shop_folder: Path) -> None:
    PageRunner(page, shop_folder).run()


def test_every_page_is_checked() -> None:
    # a page without runnable blocks is fine, but a fence language the runner does not know
    # means an example that silently is not checked
    known = {"python", "http", "json", "console", "shell", "bash", "text", ""}
    for page in PAGES:
        for block in blocks(page):
            assert block.lang in known, f"{page.name}:{block.line}: unknown fence {block.lang!r}"
