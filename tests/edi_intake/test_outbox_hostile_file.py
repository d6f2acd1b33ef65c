"""A hostile file already at the acknowledgment's name in the partner's outbox (a huge file, a FIFO, a
symlink to /dev/zero): a real `orderq deliver --once` refuses it in the delivery's error, within its
memory and time, and leaves it as it was.

WHY: the sender once read a same-named file whole to see whether it already held this acknowledgment;
a 4 GB file at that name exhausted the worker's memory, and the output guard's marker check opened a
FIFO and waited forever for a writer."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from db.service import Desk
from tests.conftest import REPO, run_cli
from tests.edi.conftest import EDI
from tests.edi_intake.conftest import rows, set_up_partner

ASCII1 = EDI / "x12" / "850-004010-ascii1.x12"

#: the worker's address space: far less than the huge file, far more than `orderq deliver` needs
MEMORY_CAP = 1 << 30
HUGE = 4 << 30  # sparse: no disk used


def _deliver_capped(db: Path) -> subprocess.CompletedProcess[str]:
    """`orderq deliver --once` in its own process, its memory capped, with a deadline (a hang fails the test)."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    exe = Path(sys.executable).parent / "orderq"
    return subprocess.run([str(exe), "--db", str(db), "deliver", "--once"], capture_output=True, text=True,
                          cwd=REPO, timeout=60, preexec_fn=cap)


def _the_997(db: Path) -> dict:
    (d,) = rows(db, "SELECT state, last_error, payload FROM deliveries WHERE kind = 'edi_file'")
    return {"state": d["state"], "last_error": d["last_error"], "name": json.loads(d["payload"])["name"]}


def _plant_huge(dest: Path) -> None:
    with open(dest, "wb") as fh:
        fh.truncate(HUGE)


def _plant_fifo(dest: Path) -> None:
    os.mkfifo(dest)


def _plant_dev_zero(dest: Path) -> None:
    dest.symlink_to("/dev/zero")


@pytest.mark.parametrize("plant", [_plant_huge, _plant_fifo, _plant_dev_zero], ids=["huge", "fifo", "dev-zero"])
def test_a_hostile_file_at_the_acknowledgments_name_is_refused_and_left_alone(
        plant, demo_db: Path, desk_for, tmp_path: Path) -> None:  # noqa: ANN001
    desk: Desk = desk_for(demo_db, None)
    partner = set_up_partner(desk, ASCII1, tmp_path)
    run_cli("--db", str(demo_db), "import", str(ASCII1), check=True)
    dest = partner.outbox / _the_997(demo_db)["name"]
    plant(dest)
    before = os.lstat(dest)
    proc = _deliver_capped(demo_db)
    assert proc.returncode == 0, proc.stderr
    d = _the_997(demo_db)
    assert d["state"] == "failed", dict(d) # permanent: retrying cannot make the file go away
    assert str(dest) in d["last_error"] and "exists already" in d["last_error"]
    after = os.lstat(dest)
    assert (after.st_ino, after.st_mode, after.st_size) == (before.st_ino, before.st_mode, before.st_size)
    assert sorted(p.name for p in partner.outbox.iterdir()) == [dest.name]  # no temp file left
