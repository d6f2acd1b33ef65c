"""The orderq Textual app: one per session (local terminal or SSH), holding the signed-in desk.

It owns what every screen shares:
- the one change feed (db.feed.open_feed) in an exclusive worker; after each batch it posts
  `StoreChanged(events)` to every screen on the stack;
- the session's claim registry, renewed at half the lease and given back on exit, SIGHUP,
  SIGTERM, or when the terminal goes away (stdin hang-up or EOF: see NOTES.md "EOF spin");
- the lease watch: when anyone's lease ends, the first session to look returns it to the queue,
  and every screen shows it within seconds, with no key pressed;
- the `sessions` row (reps online) with its heartbeat;
- themes, the keymap file, the command palette (every binding of the current screen) and F1 help.
"""
from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from core.errors import OrderqError, PermissionDenied
from db.dbapi import Error as DbError
from db.service import Desk
from tui.app_claims import ClaimKeeping
from tui.app_session_end import SessionEnd
from tui.claim_registry import ClaimRegistry
from tui.live import FEED_GAP_S, LiveScreen, shown
from tui.messages import OpenScreen, RulesReady, StoreChanged
from tui.plain import PlainNotify
from tui.screen_registry import FIRST_SCREENS, HOME_SCREEN, SCREEN_PERMISSION, build_screen

if TYPE_CHECKING:
    from core.models import Event

log = logging.getLogger("orderq.tui")


def resume_gc() -> None:
    """The launcher (`orderq tui`, `python -m tui`) runs start-up without the cyclic garbage
    collector, which would only walk the modules, classes and styles start-up builds; after the
    first paint it runs again, with all of those frozen out of its passes."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


class OrderqApp(SessionEnd, ClaimKeeping, PlainNotify, App[int]):
    TITLE = "orderq"
    #: the first screen's stylesheet, parsed with the app's own at start-up: pushing a screen whose
    #: CSS is not loaded yet re-parses every stylesheet, which would delay the first paint
    CSS_PATH = [Path(__file__).resolve().parent / "screens" / "queue.tcss"]
    CSS = """
    Screen { background: $background; }
    """
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Palette", id="app.palette", priority=True, show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit-now", show=False, priority=True),
    ]

    def __init__(self, desk: Desk, *, screen: str | None = None, theme: str | None = None, feed: bool = True,
                 keymap: dict[str, str] | None = None, session: bool = True,
                 idle_timeout: float | None = None) -> None:
        super().__init__()
        if idle_timeout is None and os.environ.get("ORDERQ_IDLE_TIMEOUT"):
            try:
                idle_timeout = float(os.environ["ORDERQ_IDLE_TIMEOUT"])
            except ValueError:
                idle_timeout = None
        #: end the session after this many seconds without keyboard (or mouse) input; output never counts
        self.idle_timeout = idle_timeout if idle_timeout and idle_timeout > 0 else None
        self._last_input = time.monotonic()
        self.desk = desk
        self.claims = ClaimRegistry()
        role = desk.actor.role.value if desk.actor.role else ""
        self.first_screen = screen if screen in FIRST_SCREENS else HOME_SCREEN.get(role, "queue")
        self.use_feed = feed
        self.record_session = session
        self.session_id: int | None = None
        self._released = False
        self._hung_up = False
        self._feed = None
        self._lease_timer = None
        self._lease_look_at: float | None = None  # monotonic time of the next lease look
        self._startup_notes: list[tuple[str, str]] = []
        self._background_started = False
        #: why the app stopped on its own: a bad rules file at start-up, or the account disabled
        #: mid-session; printed on exit, status 2
        self.exit_error: str | None = None

        from themes import load_themes

        for t in load_themes():
            self.register_theme(t)
        if theme is not None and theme not in self.available_themes:
            self._startup_notes.append((f"unknown theme {theme!r}; using the default", "warning"))
            theme = None
        #: the user's --theme: it wins on every screen, the wallboard too
        self.theme_choice = theme
        self._start_with_theme(self.theme_for(self.first_screen))

        if keymap is None:
            from tui.keymap import load_keymap

            keymap, problems = load_keymap()
            self._startup_notes += [(f"keys file: {p}", "warning") for p in problems]
        if keymap:
            self.set_keymap(keymap)

    def theme_for(self, screen_name: str) -> str:
        """The one place a theme is chosen: the user's --theme, else the wallboard's high-contrast
        theme on the wallboard (read across a room) and the default everywhere else."""
        from themes import DEFAULT_THEME, WALLBOARD_THEME

        if self.theme_choice:
            return self.theme_choice
        return WALLBOARD_THEME if screen_name == "wallboard" else DEFAULT_THEME

    def _follow_screen_theme(self, screen: Screen) -> None:
        if isinstance(screen, ModalScreen):
            return  # a dialog keeps the colours of the screen under it
        wanted = self.theme_for(self.screen_name())
        if wanted != self.theme and wanted in self.available_themes:
            self.theme = wanted

    def _start_with_theme(self, name: str) -> None:
        """What setting `self.theme` does, minus the full CSS refresh it defers to the first
        message: nothing is parsed yet, so the stylesheet only needs this theme's variables.
        (That refresh would parse every stylesheet a second time before the first paint.)"""
        self.set_reactive(App.theme, name)
        theme = self.current_theme
        classes = {c: False for c in self.classes if c.startswith("-theme-")}
        classes.update({f"-theme-{theme.name}": True, "-dark-mode": theme.dark, "-light-mode": not theme.dark})
        self.update_classes(classes, update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())

    # ---- start and stop ----------------------------------------------------------------
    def on_mount(self) -> None:
        from db.feed import open_feed

        # the cursor is taken now, so nothing committed while the first screen paints is missed
        self._feed = open_feed(self.desk.store, on_state=self._feed_state)
        self._feed.min_gap = FEED_GAP_S
        if not self.is_headless:
            self._install_signal_handlers()
            self._watch_tty()
        if self.idle_timeout:
            self.set_interval(min(1.0, max(0.1, self.idle_timeout / 4)), self._check_idle)
        self._open_first_screen()

    def first_paint(self) -> None:
        """Called by the queue once it has painted (or after the first refresh when the session
        starts on another screen). What is not needed to paint comes now: `_finish_start_up`."""
        if self._background_started:
            return
        self._background_started = True
        resume_gc()
        self.call_later(self._finish_start_up)

    def _finish_start_up(self) -> None:
        """Validate the rules file (pydantic loads here: SPEC §3, "at start-up"); a bad file stops
        the app with the error naming the key (`exit_error`, exit 2). A key pressed before this
        would validate them itself (Store.rules). Then the lease renewal, the watcher (db.inotify
        and the feed) and the session row."""
        try:
            lease = self.desk.ctx.rules.lease
        except OrderqError as e:
            self.exit_error = e.message
            self.exit(2, return_code=2)
            return
        self.set_interval(max(1.0, lease.total_seconds() / 2), self.renew_claims)
        for screen in list(self.screen_stack):
            screen.post_message(RulesReady())
        self._start_background()

    def _start_background(self) -> None:
        if self.record_session and self.session_id is None and not self._released:
            try:
                from db.service.sessions import HEARTBEAT_S

                self.session_id = self.desk.sessions.start(self.screen_name())
                self.set_interval(HEARTBEAT_S, self._heartbeat)
                # the row's screen at once, not at the next beat: `orderq serve` spares a wallboard
                # from its idle timeout by reading it
                self.screen_change_signal.subscribe(self, lambda _screen: self._heartbeat())
            except OrderqError as e:
                log.warning("could not record the session: %s", e)
        if self.use_feed:
            self._run_feed()
        self.watch_leases()
        for msg, severity in self._startup_notes:
            self.notify(msg, severity=severity)  # type: ignore[arg-type]

    def _open_first_screen(self) -> None:
        """The first screen alone. A session that starts elsewhere than the queue (a supervisor on
        the wallboard, returns on theirs) builds the queue only when the user goes to it
        (`leave_screen`): kept under the wallboard it held a window of rows and a tick of its own in
        a session that never showed it (issue 14: the wallboard session was the one over 60 MB)."""
        if self.first_screen == "queue" or not self.open_screen(self.first_screen):
            self._push_queue()
        else:
            self.call_after_refresh(self.first_paint)  # the queue says so itself once it has painted
        # from here on the theme follows the screen (the first one's is set already)
        self.screen_change_signal.subscribe(self, self._follow_screen_theme)

    def _push_queue(self, *, switch: bool = False) -> None:
        from tui.screens.queue import QueueScreen

        (self.switch_screen if switch else self.push_screen)(QueueScreen(self.desk))

    def leave_screen(self) -> None:
        """Back from the screen on top (its Esc): to the screen under it, or, from the session's
        first screen, to the queue, built now in its place (Textual's own blank screen is the
        bottom of the stack, never shown)."""
        if len(self.screen_stack) > 2:
            self.pop_screen()
        elif self.screen_name() != "queue":
            self._push_queue(switch=True)

    def open_screen(self, name: str, *args: Any) -> bool:
        """Push a named screen if the user may see it and its module exists; else say why not."""
        need = SCREEN_PERMISSION.get(name)
        if need is not None:
            try:
                self.desk.ctx.require(need)
            except OrderqError as e:
                self.notify(e.message, severity="error", timeout=6)
                return False
        try:
            screen = build_screen(self.desk, name, *args)
        except (OrderqError, DbError) as e:  # e.g. the database went away as the screen was asked for
            self.notify(getattr(e, "message", None) or str(e), severity="error", timeout=6)
            return False
        if screen is None:
            self.notify(f"the {name} screen is not installed in this build", severity="warning")
            return False
        self.push_screen(screen)
        return True

    def on_open_screen(self, message: OpenScreen) -> None:
        """A screen asked for another (screens never import each other or the app)."""
        if message.replace and len(self.screen_stack) > 1:
            self.pop_screen()
        self.open_screen(message.name, *message.args)

    async def on_unmount(self) -> None:
        if self._feed is not None:
            self._feed.stop()
        self.release_all()

    # ---- the change feed -------------------------------------------------------------------
    @work(exclusive=True, group="feed", exit_on_error=False)
    async def _run_feed(self) -> None:
        import asyncio

        from db.feed import open_feed

        while True:
            feed = self._feed
            try:
                async for batch in feed.batches():
                    self._dispatch(batch)
                return
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a busy database or odd filesystem: resume shortly
                log.exception("change feed failed; resuming")
                await asyncio.sleep(1.0)
                self._feed = open_feed(self.desk.store, cursor=feed.cursor, on_state=self._feed_state)
                self._feed.min_gap = FEED_GAP_S

    @property
    def feed_state(self) -> str:
        """The change feed's state: "watch", "poll" or "listen" while live, "reconnecting" while the
        database cannot be reached ("starting" before the feed runs)."""
        return self._feed.state if self._feed is not None else "starting"

    def _feed_state(self, state: str) -> None:
        """The feed lost (or got back) the database: every screen's footer says so, and the queue's bar."""
        from tui.widgets.footer import KeyFooter

        for screen in list(self.screen_stack):
            for footer in screen.query(KeyFooter):
                footer.redraw()
            bar = getattr(screen, "feed_state_changed", None)
            if bar is not None:
                bar()

    def feed_poke(self) -> None:
        """After this session's own commit: refresh every screen now (data_version misses own commits)."""
        if self._feed is None:
            return
        if self.use_feed:
            self._feed.poke()
        else:
            batch = self._feed.pending()
            if batch:
                self._dispatch(batch)

    def _dispatch(self, batch: list[Event]) -> None:
        me = self.desk.actor.name
        if any(ev.action == "user_disabled" and ev.entity == "user" and ev.ref == me for ev in batch):
            self.account_disabled()
            return
        self._note_lost_claims(batch)
        self._note_new_leases(batch)
        for screen in list(self.screen_stack):
            # Only screens that follow the store, and a live screen under another is only marked
            # stale (it refreshes when shown): any message to a screen below the top one, Textual's
            # default screen included, makes the top screen repaint whole (issue 14).
            if not hasattr(screen, "on_store_changed"):
                continue
            if isinstance(screen, LiveScreen):
                if not shown(screen):
                    screen.mark_stale()
                    continue
                try:
                    unaffected = screen.unaffected_by(batch)
                except Exception:  # noqa: BLE001 - e.g. not mounted yet: unsure, so it is told
                    log.debug("unaffected_by failed on %s", screen, exc_info=True)
                    unaffected = False
                if unaffected:
                    continue  # nothing it shows changed: no message at all
            screen.post_message(StoreChanged(batch))

    # ---- heartbeat ---------------------------------------------------------------------------
    def _heartbeat(self) -> None:
        if self.session_id is None:
            return
        try:
            self.desk.sessions.beat(self.session_id, self.screen_name())
        except PermissionDenied:  # the account was disabled and the feed did not say so (yet)
            self.account_disabled()
        except OrderqError as e:
            log.warning("heartbeat failed: %s", e)

    def account_disabled(self) -> None:
        """An admin disabled this user (SPEC §6 "Users"): the session ends within seconds, saying
        why. `users disable` gave the claims back already; whatever is left goes back on the way out."""
        self.exit_error = "your account was disabled; your claims went back to the queue"
        self.hang_up("account disabled")

    def screen_name(self) -> str:
        scr = self.screen
        return getattr(scr, "SCREEN_NAME", None) or type(scr).__name__.removesuffix("Screen").lower()

    # ---- help and palette ----------------------------------------------------------------------
    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        self.push_screen(HelpScreen.for_screen(self.screen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: this screen's keys, then the other screens' (tui.palette), then Textual's own."""
        from tui.palette import commands

        yield from commands(self, screen, super().get_system_commands(screen))
