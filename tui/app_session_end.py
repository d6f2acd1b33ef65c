"""How a TUI session ends without its user quitting: SIGHUP or SIGTERM, a terminal that is gone (a
hung-up or closed stdin, with no SIGHUP after some SSH drops), or the idle timeout. Whatever the
cause, claims go back first (`ClaimKeeping.release_all`), then the app exits; a watchdog makes sure
a wedged output thread on a dead terminal cannot keep the process alive. Mixed into OrderqApp."""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

from textual import events

from tui.tty_watch import TTY_CHECK_S, tty_gone

log = logging.getLogger("orderq.tui")

EXIT_WATCHDOG_S = 3.0


class SessionEnd:
    """Needs from the app: `_hung_up`, `_last_input`, `idle_timeout`, `release_all`, `exit`,
    `is_headless`, `call_from_thread`."""

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        import asyncio

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self.hang_up, sig.name)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    def _watch_tty(self) -> None:
        """Exit when the terminal is gone: a hung-up or closed stdin (no SIGHUP after some SSH drops).

        A daemon thread blocks in poll() on stdin asking for no events: the kernel still reports
        POLLHUP / POLLERR / POLLNVAL, so the thread wakes at the hang-up and never for a key. (A
        1 s timer cost every idle session a wake-up a second: issue 14.)"""
        def watch() -> None:
            while not self._hung_up:
                why = tty_gone(0, TTY_CHECK_S)
                if why:
                    try:
                        self.call_from_thread(self.hang_up, why)
                    except RuntimeError:  # the app is already gone
                        pass
                    return

        threading.Thread(target=watch, name="orderq-tty-watch", daemon=True).start()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.idle_timeout and time.monotonic() - self._last_input >= self.idle_timeout:
            self.hang_up(f"idle for {self.idle_timeout:g} s")

    def hang_up(self, why: str = "hang-up") -> None:
        """The session is over (signal or lost terminal): give claims back first, then leave."""
        if self._hung_up:
            return
        self._hung_up = True
        log.info("session ends: %s", why)
        self.release_all()
        if not self.is_headless:  # a dead terminal can wedge the output thread: never outlive it by long
            watchdog = threading.Timer(EXIT_WATCHDOG_S, os._exit, (0,))
            watchdog.daemon = True
            watchdog.start()
        self.exit(0)
