"""schemathesis against the running server's own /openapi.json: no 5xx, and every answer conforms to
the document (status code documented, content type, body schema). Bounded: a fixed seed and a few
examples per operation keep it under a minute."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.api.conftest import Server
from tests.helpers import clean_env

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance," \
         "negative_data_rejection"


def test_schemathesis_finds_no_5xx_and_no_answer_off_the_document(server: Server, tmp_path: Path) -> None:
    st = Path(sys.executable).parent / "st"
    proc = subprocess.run(
        [str(st), "run", f"{server.url}/openapi.json", "-H", f"Authorization: Bearer {server.keys['shop']}",
         "--checks", CHECKS, "--max-examples", "10", "--seed", "1", "--phases", "examples,coverage,fuzzing",
         "--request-timeout", "20", "--no-color"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path, env=clean_env(NO_COLOR="1"))
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "Tested: 9" in proc.stdout  # every operation, POST /v1/edi by its text/plain body
    assert " 500 " not in server.log_text() and "status=5" not in server.log_text()
