"""The drop folder: every file dropped into it is imported exactly once, then moved to `done/`, or to
`failed/` with a `<name>.reason` file beside it.

Protocol (what a sender must know):
- Only import files are taken: names ending in .csv, .jsonl or .ndjson (optionally .gz), and EDI
  interchanges (.x12, .edi, .edifact, .850). Anything
  else (a host key, a SQLite file whatever its name, notes) is left where it is, untouched.
- The folder may not hold the database, nor be a parent of its folder: a sweep would carry the
  database, its -wal and -shm (and the host key beside them) into failed/. Such a folder is refused.
- Names starting with `.` or ending in `.part`, `.tmp`, `.partial`, `.crdownload` or `~` are never read:
  write under such a name and rename into place when complete (atomic on one filesystem).
- A file written in place is read only once its size and mtime have stayed unchanged for `settle`
  seconds (default 1 s), so a slow writer is waited for.
- Rejected rows go to `done/<name>.rejects.csv`. Importing is idempotent on source_ref, so a file
  dropped twice (or re-imported after a crash between import and move) adds nothing.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from core.errors import OrderqError
from db.importer.source_files import EDI_SUFFIXES, FILE_SUFFIXES
from db.outputs import guard_watch_folder, is_sqlite

log = logging.getLogger("orderq.intake")

IGNORED_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload", "~", ".reason", ".rejects.csv")

Report = Callable[[str, str, dict], None]


def ignored(name: str) -> bool:
    """Never read: a sender's temp names, our own outputs, and anything that is not an import file."""
    return name.startswith(".") or name.endswith(IGNORED_SUFFIXES) or not name.lower().endswith(FILE_SUFFIXES + EDI_SUFFIXES)


class DropFolder:
    def __init__(self, intake, folder: Path, *, fmt: str = "auto", settle: float = 1.0,  # noqa: ANN001
                 on_result: Report | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.intake = intake
        self.folder = folder
        self.fmt = fmt
        self.settle = settle
        self.on_result = on_result or (lambda name, outcome, detail: None)
        self.clock = clock
        self.done = folder / "done"
        self.failed = folder / "failed"
        #: name -> (size, mtime_ns, since): when the file was last seen to change
        self.seen: dict[str, tuple[int, int, float]] = {}
        #: SQLite files under an import name, warned about once
        self.left_alone: set[str] = set()
        if not folder.is_dir():
            from core.errors import ValidationError

            raise ValidationError(f"{folder} is not a folder", field="watch")
        guard_watch_folder(folder, database=intake.ctx.store.path)
        self.done.mkdir(exist_ok=True)
        self.failed.mkdir(exist_ok=True)

    # ---- one pass ------------------------------------------------------------------------------
    def ready(self) -> list[Path]:
        """Files whose size and mtime have been stable for `settle` seconds; others are remembered."""
        now = self.clock()
        out = []
        present = set()
        for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
            if not entry.is_file(follow_symlinks=False) or ignored(entry.name):
                continue
            if is_sqlite(entry.path):
                if entry.name not in self.left_alone:
                    self.left_alone.add(entry.name)
                    log.warning("intake: %s is a SQLite database, not an import file; left where it is", entry.name)
                continue
            present.add(entry.name)
            st = entry.stat()
            sig = (st.st_size, st.st_mtime_ns)
            prev = self.seen.get(entry.name)
            if prev is None or prev[:2] != sig:
                self.seen[entry.name] = (*sig, now)
                continue
            if now - prev[2] >= self.settle:
                out.append(Path(entry.path))
        for gone in set(self.seen) - present:
            del self.seen[gone]
        return out

    def pending(self) -> int:
        return len(self.seen)

    def handle(self, path: Path) -> str:
        name = path.name
        self.seen.pop(name, None)
        rejects = self.done / f"{name}.rejects.csv"
        try:
            summary = self.intake.import_file(path, fmt=self.fmt, rejects=rejects)
        except (OrderqError, OSError, ValueError, EOFError) as e:
            reason = e.message if isinstance(e, OrderqError) else f"{type(e).__name__}: {e}"
            target = _free(self.failed / name)
            shutil.move(str(path), target)
            target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
            log.warning("intake: %s failed: %s", name, reason)
            self.on_result(name, "failed", {"reason": reason, "moved_to": str(target)})
            return "failed"
        target = _free(self.done / name)
        shutil.move(str(path), target)
        detail = summary.as_json()
        detail["moved_to"] = str(target)
        log.info("intake: %s imported: %s", name, json.dumps(detail))
        self.on_result(name, "done", detail)
        return "done"

    def step(self) -> int:
        n = 0
        for path in self.ready():
            self.handle(path)
            n += 1
        return n

    # ---- loops ---------------------------------------------------------------------------------
    def run_once(self, timeout: float = 60.0) -> int:
        """Import whatever is in the folder now (waiting for it to settle), then return."""
        deadline = self.clock() + timeout
        n = self.step()
        while self.pending() and self.clock() < deadline:
            time.sleep(min(0.1, self.settle / 4 or 0.05))
            n += self.step()
        return n

    async def watch(self, stop: asyncio.Event | None = None) -> None:
        """Watch with watchfiles; wake at least every settle/2 to see whether a waiting file has settled."""
        from watchfiles import awatch

        self.step()
        tick = max(50, int(self.settle * 500))
        async for _changes in awatch(self.folder, stop_event=stop, debounce=50, step=20, rust_timeout=tick,
                                     yield_on_timeout=True, recursive=False):
            await asyncio.to_thread(self.step)


def _free(target: Path) -> Path:
    """A name in done/ or failed/ that does not overwrite an earlier file of the same name."""
    if not target.exists():
        return target
    stem, n = target.name, 1
    while (target.with_name(f"{stem}.{n}")).exists():
        n += 1
    return target.with_name(f"{stem}.{n}")
