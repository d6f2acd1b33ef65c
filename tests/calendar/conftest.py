"""The queue screen's fixtures (a deterministic demo desk on a fixed clock), shared here."""
from tests.tui_queue.conftest import make_app, queue_db  # noqa: F401 - re-exported fixtures
