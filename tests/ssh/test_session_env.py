"""The session process's environment: clean, with TERM from the client and no SSH_* identity."""
from __future__ import annotations

from pathlib import Path

import pytest

from tui.ssh_host_key import default_host_key
from tui.ssh_spawn import session_env


def test_session_env_drops_ssh_and_terminal_leftovers(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {"SSH_CONNECTION": "1 2 3 4", "SSH_CLIENT": "1 2 3", "SSH_TTY": "/dev/pts/3",
                 "SSH_AUTH_SOCK": "/tmp/agent", "TMUX": "/tmp/tmux", "COLUMNS": "200", "LINES": "60",
                 "COLORTERM": "truecolor", "ORDERQ_IDLE_TIMEOUT": "5", "ORDERQ_KEYS": "/etc/orderq/keys.toml", "LC_ALL": "C.UTF-8"}.items():
        monkeypatch.setenv(k, v)
    env = session_env("screen-256color", {"LANG": "de_DE.UTF-8", "COLORTERM": "truecolor", "EVIL": "1"},
                      Path("/srv/orderq.db"), "10.0.0.7:51515")
    assert not [k for k in env if k.startswith("SSH_")]
    assert not {"TMUX", "COLUMNS", "LINES", "EVIL", "ORDERQ_IDLE_TIMEOUT"} & set(env)
    assert env["TERM"] == "screen-256color"
    assert env["LANG"] == "de_DE.UTF-8" and env["COLORTERM"] == "truecolor"  # the client's, as AcceptEnv
    assert env["ORDERQ_KEYS"] == "/etc/orderq/keys.toml" and env["LC_ALL"] == "C.UTF-8"
    assert env["ORDERQ_DB"] == "/srv/orderq.db" and env["ORDERQ_REMOTE"] == "10.0.0.7:51515"


def test_session_env_without_a_term_gets_a_sane_one() -> None:
    assert session_env(None, {}, Path("x.db"), "?")["TERM"] == "xterm-256color"


def test_default_host_key_is_beside_the_database(tmp_path: Path) -> None:
    assert default_host_key(tmp_path / "orderq.db") == tmp_path.resolve() / "host_key_ed25519"
