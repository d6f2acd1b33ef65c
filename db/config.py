"""Reading the rules file: the I/O half of core.rules."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import RulesError

if TYPE_CHECKING:
    from core.calendar import Calendar
    from core.rules import Rules


def default_rules_text() -> str:
    return resources.files("core").joinpath("default_rules.toml").read_text(encoding="utf-8")


def _rules_text(path: str | Path | None) -> tuple[str, str]:
    """(text, source name) of `path`, else $ORDERQ_RULES, else the shipped default."""
    chosen = path or os.environ.get("ORDERQ_RULES")
    if not chosen:
        return default_rules_text(), "default rules"
    p = Path(chosen)
    try:
        return p.read_text(encoding="utf-8"), str(p)
    except OSError as e:
        raise RulesError(f"rules file {p}: {e.strerror}") from None


def load_rules(path: str | Path | None = None) -> Rules:
    """`path`, else $ORDERQ_RULES, else the shipped default."""
    from core.rules import parse_rules  # pydantic: loaded on first use, after the queue's first paint

    return parse_rules(*_rules_text(path))


def load_calendar(path: str | Path | None = None) -> Calendar | None:
    """Only the rules' calendar, without pydantic, for the queue's first paint (README "Start-up").
    None when the file cannot be read or its calendar is bad: load_rules then stops the app with
    the message naming the key, a moment later."""
    import tomllib

    from core.calendar import CalendarError, parse_calendar

    try:
        text, _source = _rules_text(path)
        return parse_calendar(tomllib.loads(text).get("calendar"))
    except (RulesError, CalendarError, tomllib.TOMLDecodeError):
        return None
