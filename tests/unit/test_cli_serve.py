"""``flexorm serve``: what it resolves, prints and refuses, without starting uvicorn.

(``tests/examples/test_shop_serve.py`` runs the real server in a subprocess.)
"""

from __future__ import annotations

import shlex
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from litestar import Litestar

from devservers.net import free_port
from flexorm._demo import shop
from flexorm.cli import main
from flexorm.cli.serve import curl_command
from flexorm.plugin import FlexormPlugin
from tests.conftest import sync_engine


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """What each served uvicorn server was configured with, instead of serving; the test runs
    in tmp_path."""
    calls: list[dict[str, Any]] = []

    async def serve(server: uvicorn.Server, sockets: Any = None) -> None:
        config = server.config
        # what the app's lifespan gets: the runtime the command opened, shared
        plugin = next(p for p in config.app.plugins if isinstance(p, FlexormPlugin))
        async with plugin.host.runtime() as runtime:
            tokens = runtime.settings.tokens
        calls.append({"app": config.app, "host": config.host, "port": config.port,
                      "access_log": config.access_log, "tokens": tokens})
        server.started = True

    monkeypatch.setattr(uvicorn.Server, "serve", serve)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEXORM_TOKEN", raising=False)
    monkeypatch.delenv("FLEXORM_DATABASE_URL", raising=False)
    monkeypatch.delenv("FLEXORM_INSECURE", raising=False)
    return calls


def _serve(*args: str) -> Any:
    """``flexorm serve ARGS``, on a free port unless ARGS name one."""
    port = [] if "--port" in args else ["--port", str(free_port())]
    return CliRunner().invoke(main, ["serve", *port, *args])


def test_demo_creates_its_database_and_prints_a_working_curl(runs, tmp_path):
    port = free_port()
    result = _serve("--port", str(port))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "flexorm-demo.db").is_file()
    (token,) = runs[0]["tokens"]
    assert len(token) >= 32
    assert f"token:    {token}" in result.output
    assert str(tmp_path / "flexorm-demo.db") in result.output
    curl = next(line.strip() for line in result.output.splitlines()
                if line.strip().startswith("curl "))
    words = shlex.split(curl)
    assert f"http://127.0.0.1:{port}/api/messages/" in words
    assert f"Authorization: Bearer {token}" in words
    assert words[words.index("-d") + 1] == '{"name": "get_action_list"}'
    (call,) = runs
    assert call["app"] is shop.app
    assert (call["host"], call["port"]) == ("127.0.0.1", port)
    assert call["access_log"] is False


def test_access_log_is_off_unless_asked_for(runs):
    assert _serve("--access-log").exit_code == 0
    assert runs[0]["access_log"] is True


def test_a_token_given_with_the_option_is_printed(runs):
    """``--token "$(...)"`` hides the key from the user: the banner shows it, and the curl
    works as printed."""
    result = _serve("--token", "my-own-secret-key")
    assert result.exit_code == 0, result.output
    assert "token:    my-own-secret-key" in result.output
    assert "'Authorization: Bearer my-own-secret-key'" in result.output
    assert runs[0]["tokens"] == ("my-own-secret-key",)
    assert shop.flex.settings.tokens != ("my-own-secret-key",)  # the user's object unchanged


def test_a_token_from_the_environment_stays_out_of_the_output(runs, monkeypatch, tmp_path):
    monkeypatch.setenv("FLEXORM_TOKEN", "env-secret-key")
    result = _serve(_user_database(tmp_path))
    assert result.exit_code == 0, result.output
    assert "env-secret-key" not in result.output
    assert '"Authorization: Bearer $FLEXORM_TOKEN"' in result.output


def test_a_port_in_use_is_one_line_and_exit_2(runs):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _serve("--port", str(port))
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"Error: 127.0.0.1:{port} is already in use: stop what listens there, or pass --port")
    assert "Serving" not in result.output
    assert runs == []


def test_port_0_serves_on_a_free_port_and_says_which(runs):
    result = _serve("--port", "0", "--insecure")
    assert result.exit_code == 0, result.output
    url = next(w for w in result.output.split() if w.startswith("http://127.0.0.1:"))
    assert int(url.split(":")[2].split("/")[0]) > 0


def test_insecure_warns_and_curls_without_a_header(runs):
    result = _serve("--insecure", "--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    assert "WARNING: no authorization" in result.output
    assert "Authorization" not in result.output
    assert "http://127.0.0.1:" in result.output
    assert "http://0.0.0.0" not in result.output
    assert runs[0]["host"] == "0.0.0.0"


def _user_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    engine = sync_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
    engine.dispose()
    return url


def test_users_database_without_a_token_refuses_to_start(runs, tmp_path):
    result = _serve(_user_database(tmp_path))
    assert result.exit_code == 2
    assert result.output.startswith("Error: no token configured: pass --token KEY")
    assert len(result.output.strip().splitlines()) == 1
    assert runs == []


def test_users_database_with_a_token(runs, tmp_path):
    result = _serve(_user_database(tmp_path), "--token", "k1", "--token", "k2")
    assert result.exit_code == 0, result.output
    assert "Serving flexorm: 0 actions" in result.output
    app = runs[0]["app"]
    assert isinstance(app, Litestar)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not a url"], "Error: not a database URL"),
        (["sqlite:///no/such/file.db", "--token", "k"], "Error: no SQLite database at"),
        (["nosuchdb://x/y", "--token", "k"], "Error: "),
        (["postgresql://user:pw@127.0.0.1:1/db", "--token", "k"], "Error: "),
        (["--app", "nomodule_here:flex", "--token", "k"], "Error: cannot import 'nomodule_here'"),
        (["--app", "nocolon", "--token", "k"], "Error: --app must look like module:attribute"),
    ],
)
def test_failures_are_one_line_and_exit_2(runs, args, message):
    result = _serve(*args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message)
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert "pw@" not in result.output
    assert runs == []


def _write_module(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / f"{name}.py").write_text(text)
    return name


def test_app_option_takes_a_flex_or_its_app(runs, tmp_path, monkeypatch):
    url = _user_database(tmp_path)
    module = _write_module(tmp_path, "serve_target_app", (
        "from flexorm import Flex\n"
        f"flex = Flex({url!r})\n"
        "@flex.action(model='things', for_instance=True)\n"
        "def rename(thing, name: str) -> None:\n"
        "    thing.name = name\n"
        "app = flex.app\n"
        "not_flex = 3\n"
    ))
    monkeypatch.delitem(sys.modules, module, raising=False)
    result = _serve("--app", f"{module}:flex", "--token", "k")
    assert result.exit_code == 0, result.output
    assert "Serving flexorm: 1 action on http://127.0.0.1:" in result.output
    result = _serve("--app", f"{module}:app", "--token", "k")
    assert result.exit_code == 0, result.output
    assert runs[0]["app"] is runs[1]["app"] is sys.modules[module].app
    result = _serve("--app", f"{module}:not_flex", "--token", "k")
    assert result.exit_code == 2
    assert "must name a Flex object or the Litestar app it built, not an int" in result.output
    monkeypatch.delitem(sys.modules, module)


def test_curl_command_quotes_for_the_shell():
    assert curl_command("http://h:1/api/messages/", "abc") == (
        "curl -s -X POST http://h:1/api/messages/ -H 'Authorization: Bearer abc' "
        "-H 'Content-Type: application/json' -d '{\"name\": \"get_action_list\"}'"
    )
    assert curl_command("http://h:1/x", None).count("Authorization") == 0


def test_an_app_importing_a_missing_module_names_that_module(runs, tmp_path, monkeypatch):
    (tmp_path / "brokenapp.py").write_text("import flexorm_missing_dependency\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    result = _serve("--app", "brokenapp:flex", "--token", "k")
    assert result.exit_code == 2, result.output
    assert result.output == ("Error: 'brokenapp' imports 'flexorm_missing_dependency', which "
                             "is not installed or not found\n")
