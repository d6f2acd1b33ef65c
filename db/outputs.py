"""Output files (rejects, reports, backups, host keys): where a command may write, and how.

WHY: a careless `--rejects orderq.db` once turned a 3 MB database into a 182-byte CSV, and
`import small.csv --rejects small.csv` overwrote the input while reading it (SPEC §6, "Outputs
never overwrite data"). Every command that writes a file passes its path through `guard` first,
before it reads or writes anything, so a refusal is one line, exit 2, and nothing written.

What a command may write to:
- never the database, its `-wal`, `-shm` or `-journal`, nor the input being read — compared by
  real path (symlinks, `./x`, relative paths) and by inode (hard links); no flag overrides this;
- never a folder;
- a path that does not exist yet;
- an existing file only when the command owns it: it starts with the command's own marker (the
  rejects file's CSV header, the report's generator tag), i.e. an earlier run of the same command
  wrote it. Anything else that exists is refused: there is no --force; remove it or pick another name.

Outputs are written to a temp file beside the destination (`.<name>.<random>.part`: a dotfile, so
a drop folder never takes it) and renamed over it with os.replace, so a reader sees the old file or
the new one, never half of either.
"""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from core.errors import ValidationError

#: files SQLite keeps beside a database; none of them is ever an output
DATABASE_SUFFIXES = ("", "-wal", "-shm", "-journal")

#: SQLite's file header: a file starting so is a database, whatever its name
SQLITE_MAGIC = b"SQLite format 3\x00"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: new outputs get the usual mode (0666 less the umask), not mkstemp's 0600
_MODE = 0o666 & ~_umask()


def database_files(db: str | Path) -> list[tuple[str, Path]]:
    """(suffix, path) of the database and its companions, under the name given and its real path."""
    return [(s, Path(base + s)) for base in {os.path.abspath(db), os.path.realpath(db)} for s in DATABASE_SUFFIXES]


def same_file(a: str | Path, b: str | Path) -> bool:
    """One file under two names: the same real path, or (both existing) the same inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def open_regular(path: str | Path) -> int | None:
    """A read-only descriptor on `path` if it is a regular file, else None (missing, a folder, a FIFO,
    a device, a socket, unreadable).

    WHY: opening a FIFO for reading waits for a writer, and a device (/dev/zero) never ends; a file
    someone put at an output's name must be looked at without hanging. O_NONBLOCK makes the open of a
    FIFO return at once; fstat then says what was opened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def starts_with(path: str | Path, prefix: bytes) -> bool:
    """Whether `path` is a regular file beginning with `prefix` (False when it is not, or cannot be read)."""
    fd = open_regular(path)
    if fd is None:
        return False
    with os.fdopen(fd, "rb") as fh:
        try:
            return fh.read(len(prefix)) == prefix
        except OSError:
            return False


def is_sqlite(path: str | Path) -> bool:
    return starts_with(path, SQLITE_MAGIC)


def not_data(dest: str | Path, *, flag: str, database: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """The real path of `dest`, unless it is the database, a companion of it, or an input (refused, whatever flags)."""
    real = Path(os.path.realpath(dest))
    for suffix, db in database_files(database):
        if same_file(real, db):
            what = f"the database's {suffix} file" if suffix else "the database"
            raise ValidationError(f"{flag} {dest} is {what}; choose another file", field=flag)
    for src in inputs:
        if same_file(real, src):
            raise ValidationError(f"{flag} {dest} is the input being read; choose another file", field=flag)
    return real


def guard(dest: str | Path, *, flag: str, database: str | Path, inputs: Iterable[str | Path] = (),
          marker: str | None = None, what: str = "file") -> Path:
    """The real path to write `dest` to, or a ValidationError naming `flag` (one line, exit 2).

    `marker`: how the command's own earlier output begins; an existing file that begins so may be
    replaced. `what` names that output in the refusal ("rejects file", "report").
    """
    real = not_data(dest, flag=flag, database=database, inputs=inputs)
    if real.is_dir() or str(dest).endswith(("/", os.sep)):  # `--rejects out/` names a folder, even a new one
        raise ValidationError(f"{flag} {dest} is a folder; give a file name", field=flag)
    if os.path.lexists(dest) or real.exists():
        if not (marker and starts_with(real, marker.encode())):
            mine = f" and is not an orderq {what}" if marker else ""
            raise ValidationError(f"{flag} {dest} exists already{mine}; remove it or choose another file", field=flag)
    return real


def guard_watch_folder(folder: str | Path, *, database: str | Path) -> None:
    """Refuse a drop folder that holds the database or is a parent of its folder (one line, exit 2):
    a sweep there once moved orderq.db, -wal and -shm into failed/."""
    for _suffix, db in database_files(database):
        for parent in db.parents:
            if same_file(parent, folder):
                raise ValidationError(f"--watch {folder} holds the database {database}; "
                                      "give the drop folder its own folder", field="--watch")


class AtomicFile:
    """A text file written under a temp name beside `dest`, and renamed over it whole.

    `publish()` finishes it: on disk, then renamed. A long output (the rejects of an import that
    commits in chunks) may `sync()` on the way: on disk and under its name from the first sync on, so
    what a committed chunk rejected is never only in a temp file; later rows are appended to it."""

    def __init__(self, dest: Path, *, newline: str | None = None) -> None:
        self.dest = dest
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        self.tmp = Path(tmp)
        self.placed = False
        os.fchmod(fd, _MODE)
        self.fh: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline=newline)

    def sync(self) -> None:
        """What was written, on disk and (from the first call on) under its name."""
        self.fh.flush()
        os.fsync(self.fh.fileno())
        if not self.placed:
            os.replace(self.tmp, self.dest)
            self.placed = True
            try:  # best effort: the rename itself survives a power cut
                fsync(self.dest.parent)
            except OSError:
                pass

    def publish(self) -> None:
        """Finish: on disk, renamed into place, closed; on failure the temp file is removed and the error raised."""
        try:
            self.sync()
            self.fh.close()
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        try:
            self.fh.close()
        except OSError:
            pass
        if not self.placed:
            self.tmp.unlink(missing_ok=True)


def fsync(path: Path) -> None:
    """Put a file's (or a folder's: its names') contents on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(dest: Path, text: str, *, flag: str) -> None:
    """Write a whole output at once, atomically; an OSError becomes a one-line refusal naming `flag`."""
    out = None
    try:
        out = AtomicFile(dest)
        out.fh.write(text)
        out.publish()
    except OSError as e:
        if out is not None:
            out.discard()
        raise ValidationError(f"cannot write {flag} {dest}: {e.strerror or e}; nothing was written",
                              field=flag) from None
