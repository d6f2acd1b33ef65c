"""One measured start, run by bench_queue_paint in a fresh process on a pseudo-terminal.

argv: MODE OUT [DB]. MODE is `bare` (a bare Textual app), `bare+imports` (the same after importing
orderq's CLI, service layer and app modules) or `queue` (`orderq tui --user alice` through the real CLI,
in the order it imports things itself). When the first screen has been painted (its on_mount, then
call_after_refresh), it notes {"t": epoch seconds, "cpu": s, "rss_kb", "hwm_kb"}. The queue then
finishes its start-up (rules validated, pydantic loaded, change feed started: OrderqApp's
`_start_background`), noted as "ready_t"/"ready_cpu"; then it writes the note to OUT and exits.
A bare app is ready when it has painted.
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


NOTE: dict = {}


def _cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _painted() -> None:
    NOTE.update({"t": time.time(), "cpu": _cpu(), **_mem()})


def _ready(app, out: str) -> None:  # noqa: ANN001
    NOTE.update({"ready_t": time.time(), "ready_cpu": _cpu()})
    with open(out, "w") as f:
        json.dump(NOTE, f)
    app.exit()


def _report(app, out: str) -> None:  # noqa: ANN001
    _painted()
    _ready(app, out)


def _hook_queue(module, out: str) -> None:  # noqa: ANN001
    original = module.QueueScreen.on_mount

    def on_mount(self) -> None:  # noqa: ANN001
        original(self)
        self.call_after_refresh(_painted)

    module.QueueScreen.on_mount = on_mount


def _hook_app(module, out: str) -> None:  # noqa: ANN001
    original = module.OrderqApp._start_background

    def start_background(self) -> None:  # noqa: ANN001
        original(self)
        _ready(self, out)

    module.OrderqApp._start_background = start_background


def _after_import(name: str, hook, *args) -> None:  # noqa: ANN001
    """Run hook(module, *args) right after `name` is imported by the app itself, so the measured
    start keeps the real import order (importing the screen up front would load textual, pydantic
    and the rest before `orderq` even starts, outside its own start-up)."""
    import importlib.machinery

    class Finder:  # a meta path finder by duck typing: importlib.abc would cost the queue a few ms
        def find_spec(self, fullname, path, target=None):  # noqa: ANN001, ANN201
            if fullname != name:
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            exec_module = spec.loader.exec_module

            def exec_and_hook(module) -> None:  # noqa: ANN001
                exec_module(module)
                hook(module, *args)

            spec.loader.exec_module = exec_and_hook
            return spec

    sys.meta_path.insert(0, Finder())


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
    _after_import("tui.screens.queue", _hook_queue, out)
    _after_import("tui.app", _hook_app, out)
    from cli.main import main as orderq

    return orderq(["--db", sys.argv[3], "tui", "--user", "alice"])


if __name__ == "__main__":
    sys.exit(main())
