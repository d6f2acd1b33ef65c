"""Which columns of a table fit a width: the one rule the queue, the order lines and the returns
list follow at 80 columns. Columns named in `drop_first` give way, in that order, until the
flexible ones (width 0) have at least `min_flex` cells each; the flexible ones then share what
is left (up to `max_flex`). Whatever is not named there always stays (the amount, the due time).
"""
from __future__ import annotations

from typing import Any

from rich.text import Text

Column = tuple[str, str, int, bool]  # (key, heading, width or 0 for flexible, right-aligned)


def fit_columns(columns: list[Column], width: int, drop_first: tuple[str, ...], *, pad: int,
                min_flex: int, max_flex: int | None = None) -> list[Column]:
    cols = list(columns)

    def left(cs: list[Column]) -> tuple[int, int]:
        flex = sum(1 for c in cs if not c[2]) or 1
        return width - sum(w + pad for _k, _h, w, _r in cs), flex

    for key in drop_first:
        room, flex = left(cols)
        if room // flex >= min_flex:
            break
        cols = [c for c in cols if c[0] != key]
    room, flex = left(cols)
    share = max(min_flex, room // flex)
    if max_flex is not None:
        share = min(share, max_flex)
    return [(k, h, w or share, r) for k, h, w, r in cols]


def lay_out(table: Any, cols: list[Column]) -> bool:
    """Give a DataTable these columns (right-aligned headings too); False if it has them already.
    The caller then refills the rows, as clearing the columns clears them."""
    if getattr(table, "_fitted_columns", None) == cols:
        return False
    table._fitted_columns = cols
    table.clear(columns=True)
    for key, heading, width, right in cols:
        # Text, not str: a str heading is parsed as Rich markup, whose emoji table (~1 MB) a session
        # would load for its first DataTable (issue 14: RSS per session)
        table.add_column(Text(heading, justify="right" if right else None), key=key, width=width)
    return True
