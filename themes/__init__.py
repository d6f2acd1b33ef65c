"""The themes shipped with orderq: TOML files beside this module, validated with pydantic.

Each file is one theme; `load_themes()` turns them into Textual `Theme` objects. The four
shipped themes stay legible when a terminal has only 16 colours: foreground and background are
far apart, and the slack colours (overdue, at risk, soon, ok) map onto distinct ANSI colours.
NO_COLOR is honoured by Textual itself (monochrome filter); the queue also marks slack in text.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

HERE = Path(__file__).resolve().parent
DEFAULT_THEME = "orderq-dark"
WALLBOARD_THEME = "wallboard-hc"


class ThemeSpec(BaseModel):
    """One theme file. Colours are CSS colours Textual understands (#rrggbb, names, ansi_*)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    primary: str
    secondary: str | None = None
    accent: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    boost: str | None = None
    dark: bool = True
    luminosity_spread: float = 0.15
    text_alpha: float = 0.95
    variables: dict[str, str] = Field(default_factory=dict)

    def to_theme(self):  # noqa: ANN201 - textual.theme.Theme, imported lazily
        from textual.theme import Theme

        return Theme(**self.model_dump())


def theme_specs(folder: Path = HERE) -> list[ThemeSpec]:
    out = []
    for p in sorted(folder.glob("*.toml")):
        try:
            out.append(ThemeSpec.model_validate(tomllib.loads(p.read_text(encoding="utf-8"))))
        except Exception as e:  # noqa: BLE001 - name the bad file, keep the others
            raise ValueError(f"theme file {p.name}: {e}") from None
    return out


def load_themes(folder: Path = HERE) -> list:  # noqa: ANN201 - list[textual.theme.Theme]
    return [s.to_theme() for s in theme_specs(folder)]


def theme_names(folder: Path = HERE) -> list[str]:
    return [s.name for s in theme_specs(folder)]
