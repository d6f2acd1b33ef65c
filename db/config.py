"""Reading the rules file: the I/O half of core.rules."""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from core.errors import RulesError
from core.rules import Rules, parse_rules


def default_rules_text() -> str:
    return resources.files("core").joinpath("default_rules.toml").read_text(encoding="utf-8")


def load_rules(path: str | Path | None = None) -> Rules:
    """`path`, else $ORDERQ_RULES, else the shipped default."""
    chosen = path or os.environ.get("ORDERQ_RULES")
    if not chosen:
        return parse_rules(default_rules_text(), "default rules")
    p = Path(chosen)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise RulesError(f"rules file {p}: {e.strerror}") from None
    return parse_rules(text, str(p))
