"""A webhook receiver for the tests: a real process on a loopback port that records every request.

    python receiver.py PORT RECORD_FILE [STATUS]

Each request is appended to RECORD_FILE as one JSON line: method, path, headers, body (text), and the
status it was answered with (STATUS, 200 by default). "listening PORT" is printed once the socket is
bound, so a test waits for that line instead of sleeping. Killing it is "the receiver is down"; starting
it again on the same port (SO_REUSEADDR) is "it came back".
"""
from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    port, record, status = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 200
    lock = threading.Lock()  # one whole line per request, whatever the threads do

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock, open(record, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"method": "POST", "path": self.path, "headers": dict(self.headers.items()),
                                     "body": raw.decode("utf-8"), "status": status}) + "\n")
                fh.flush()
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: object) -> None:
            pass

    # a thread per request, as a real receiver answers several workers at once; allow_reuse_address: a
    # restart takes the same port
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
