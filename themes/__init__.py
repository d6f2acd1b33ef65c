"""The themes shipped with orderq: TOML files beside this module.

A theme file holds the keyword arguments of Textual's own `Theme`, and `load_themes()` turns
each file into one, checked key by key: an unknown key, a wrong type or a colour Textual cannot
parse is refused with the file and the key named.

Why not a pydantic model, like the rules file: the theme is needed for the first paint, and
importing pydantic costs a sixth of a bare Textual app's whole start (bench_queue_paint keeps
the queue within 1.5x of that). Textual already parses the colours, so the check below is only
keys and types.

The four shipped themes stay legible when a terminal has only 16 colours: foreground and
background are far apart, and the slack colours (overdue, at risk, soon, ok) map onto distinct
ANSI colours. NO_COLOR is honoured by Textual itself (monochrome filter); the queue also marks
slack in text.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.theme import Theme

HERE = Path(__file__).resolve().parent
DEFAULT_THEME = "orderq-dark"
WALLBOARD_THEME = "wallboard-hc"

COLOURS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground", "background",
           "surface", "panel", "boost")
#: the theme variables every screen's stylesheet uses
VARIABLES = ("slack-overdue", "slack-at-risk", "slack-soon", "slack-ok", "mine")


def _check(data: dict[str, Any]) -> list[str]:
    """What is wrong with one theme file's keys and types (colours are parsed afterwards)."""
    problems = []
    known = {"name", "dark", "luminosity_spread", "text_alpha", "variables", *COLOURS}
    problems += [f"unknown key {k!r}" for k in data if k not in known]
    for key in ("name", "primary"):
        if key not in data:
            problems.append(f"missing key {key!r}")
    for key in ("name", *COLOURS):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key!r} must be a string")
    if "dark" in data and not isinstance(data["dark"], bool):
        problems.append("'dark' must be true or false")
    for key in ("luminosity_spread", "text_alpha"):
        if key in data and (isinstance(data[key], bool) or not isinstance(data[key], int | float)):
            problems.append(f"{key!r} must be a number")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        problems.append("'variables' must be a table of strings")
    else:
        problems += [f"variables: missing {v!r}" for v in VARIABLES if v not in variables]
    return problems


def load_theme(path: Path) -> Theme:
    from textual.color import Color, ColorParseError
    from textual.theme import Theme

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"theme file {path.name}: {e}") from None
    problems = _check(data)
    if not problems:
        colours = [(k, data[k]) for k in COLOURS if data.get(k)] + list(data.get("variables", {}).items())
        for key, value in colours:
            try:
                Color.parse(value)
            except ColorParseError:
                problems.append(f"{key!r}: {value!r} is not a colour")
    if problems:
        raise ValueError(f"theme file {path.name}: {'; '.join(problems)}")
    return Theme(**data)


def load_themes(folder: Path = HERE) -> list[Theme]:
    return [load_theme(p) for p in sorted(folder.glob("*.toml"))]


def theme_names(folder: Path = HERE) -> list[str]:
    return [t.name for t in load_themes(folder)]
