"""One measured start, run by bench_queue_paint in a fresh process on a pseudo-terminal.

argv: MODE OUT [DB]. MODE is `bare` (a bare Textual app), `bare+imports` (the same after importing
orderq's CLI, service layer and app modules) or `queue` (`orderq tui --user alice` through the real CLI). When the first screen has been painted (its on_mount, then
call_after_refresh), it writes {"t": epoch seconds, "cpu": s, "rss_kb", "hwm_kb"} to OUT and exits.
"""
from __future__ import annotations

import json
import sys
import time


def _mem() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out["rss_kb" if k == "VmRSS" else "hwm_kb"] = int(v.split()[0])
    return out


def _report(app, out: str) -> None:  # noqa: ANN001
    with open(out, "w") as f:
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        json.dump({"t": time.time(), "cpu": ru.ru_utime + ru.ru_stime, **_mem()}, f)
    app.exit()


def main() -> int:
    mode, out = sys.argv[1], sys.argv[2]
    if mode in ("bare", "bare+imports"):
        if mode == "bare+imports":  # what any orderq front end imports before its first screen
            import cli.main  # noqa: F401
            import db.service  # noqa: F401
            import tui.app  # noqa: F401
        from textual.app import App, ComposeResult
        from textual.widgets import Static

        class Bare(App):
            def compose(self) -> ComposeResult:
                yield Static("hello")

            def on_mount(self) -> None:
                self.call_after_refresh(_report, self, out)

        Bare().run()
        return 0
    from tui.screens.queue import QueueScreen

    original = QueueScreen.on_mount

    def on_mount(self) -> None:  # noqa: ANN001
        original(self)
        self.call_after_refresh(_report, self.app, out)

    QueueScreen.on_mount = on_mount  # type: ignore[method-assign]
    from cli.main import main as orderq

    return orderq(["--db", sys.argv[3], "tui", "--user", "alice"])


if __name__ == "__main__":
    sys.exit(main())
