"""The one way tests wait and the one way they drive a real terminal.

- `wait_for(pred, …)`: poll a condition with a deadline (never a bare sleep); returns the first
  truthy value, or fails naming what it waited for (`fail=False`: returns the last falsy value).
- `until(pilot, cond, …)`: the same inside a Pilot test, letting the app run between looks.
- `Tmux`: a private tmux server (own socket, empty config, panes kept after exit so the exit
  status can be read as `[exited N]`), one named session per app; the `tmux` fixture in
  tests/conftest.py gives each test its own and kills it afterwards.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: variables a test run may carry that would change the app under test: the outer terminal's size,
#: an outer SSH or tmux session
LEAKY_ENV = ("COLUMNS", "LINES", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_AUTH_SOCK")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV and not k.startswith("TMUX")}
    env.update(extra)
    return env


def wait_for(pred: Callable[[], Any], timeout: float = 15.0, what: str = "the condition", step: float = 0.05, *,
             fail: bool = True) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            if fail:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            return value
        time.sleep(step)


async def until(pilot: Any, cond: Callable[[], object], timeout: float = 10.0, what: str = "the condition",
                step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await pilot.pause(step)
    return True


class Tmux:
    def __init__(self, workdir: Path) -> None:
        if shutil.which("tmux") is None:
            raise AssertionError("tmux is required for the real-terminal tests")
        self.socket = f"orderq-test-{uuid.uuid4().hex[:8]}"
        self.conf = workdir / "tmux.conf"
        self.conf.write_text('set -g default-terminal "xterm-256color"\nset -g remain-on-exit on\n'
                             "set -g history-limit 2000\n")

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, "-f", str(self.conf), *args], capture_output=True,
                              text=True, check=check, env=clean_env(), timeout=20)

    def new(self, name: str, command: str | Sequence[str], cols: int = 120, rows: int = 35) -> None:
        """Run `command` (a shell line, or argv) in a new session; the pane then shows `[exited N]`."""
        line = command if isinstance(command, str) else shlex.join(command)
        # the shell prints the exit status on the pane: tmux's own pane_dead_status is not always set
        self.tmux("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows), f'{line}; echo "[exited $?]"')

    def capture(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", name, "-S", "-200").stdout

    def screen(self, name: str) -> str:
        """What is on the pane now (no scrollback)."""
        return self.tmux("capture-pane", "-p", "-t", name).stdout

    def send(self, name: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", name, *keys)

    def type(self, name: str, text: str) -> None:
        """Literal text (no key names)."""
        self.tmux("send-keys", "-t", name, "-l", text)

    def resize(self, name: str, cols: int, rows: int) -> None:
        self.tmux("resize-window", "-t", name, "-x", str(cols), "-y", str(rows))

    def dead(self, name: str) -> bool:
        return self.tmux("display-message", "-p", "-t", name, "#{pane_dead}").stdout.strip() == "1"

    def exit_status(self, name: str, timeout: float = 10) -> int:
        """The exit status of the command the pane ran."""
        return int(self.wait_text(name, r"\[exited (\d+)\]", timeout).group(1))

    def wait_text(self, name: str, pattern: str, timeout: float = 10) -> re.Match:
        """The first match of the regex `pattern` on the pane (with scrollback); fails showing the pane."""
        try:
            return wait_for(lambda: re.search(pattern, self.capture(name)), timeout,
                            f"{pattern!r} on the tmux screen")
        except AssertionError as e:
            raise AssertionError(f"{e}; screen:\n{self.capture(name)}") from None

    def wait_screen(self, name: str, text: str, timeout: float = 15) -> str:
        """The pane (no scrollback) once the literal `text` is on it; fails showing the pane."""
        def shown() -> str:
            scr = self.screen(name)
            return scr if text in scr else ""

        try:
            return wait_for(shown, timeout, f"{text!r} on the tmux screen")
        except AssertionError as e:
            raise AssertionError(f"{e}; screen:\n{self.screen(name)}") from None

    def kill(self, name: str) -> None:
        self.tmux("kill-session", "-t", name, check=False)

    def close(self) -> None:
        self.tmux("kill-server", check=False)
