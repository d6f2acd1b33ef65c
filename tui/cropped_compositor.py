"""A compositor whose partial updates render only the dirty lines of each widget (issue 14).

Every session draws every change it shows, so what a one-line redraw costs is paid by each of a
hundred sessions. Textual 8's `Compositor._get_renders` picks the widgets whose *clip* overlaps the
update (for a screen's children the clip is the whole screen, so every widget), renders every line
of each from its line cache and applies the line filters to each line; only the dirty lines are then
written. A changed queue row so rendered ~150 lines of 8 widgets, and a profile of a real session
under a writer's claims spent half its CPU there.

`CroppedCompositor` renders, for a partial update, only the rows the dirty regions cover: the
union of their rows, band by band (a changed row at the top and the why panel at the bottom are two
bands, not every line between them). Cropped by rows only, never by columns: the terminal update
(`ChopsUpdate`) writes each chop from its first cell, so every chop on a dirty row must be rendered
whole, and a widget's strip is cut at the compositor's cuts, which a column crop need not fall on.
A full update (a layout, a resize, a new screen) goes through Textual's own code unchanged.
"""
from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip


def row_bands(regions: Iterable[Region], width: int) -> list[Region]:
    """The rows the regions cover, as full-width bands, merged where they touch or overlap."""
    spans = sorted((r.y, r.y + r.height) for r in regions if r.height and r.width)
    bands: list[list[int]] = []
    for top, bottom in spans:
        if bands and top <= bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], bottom)
        else:
            bands.append([top, bottom])
    return [Region(0, top, width, bottom - top) for top, bottom in bands]


class CroppedCompositor(Compositor):
    """Textual's compositor, but a partial update renders only the dirty rows of each widget."""

    def __init__(self) -> None:
        super().__init__()
        self._bands: list[Region] | None = None  # set for the length of one partial update

    def render_partial_update(self) -> ChopsUpdate | None:
        self._bands = row_bands(self._dirty_regions, self.size.width)
        try:
            return super().render_partial_update()
        finally:
            self._bands = None

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        bands = self._bands
        if not crop or bands is None:
            yield from super()._get_renders(crop)
            return
        intersection = Region.intersection
        # front to back, as Textual's: on each line the first strip for a cut wins
        for widget, (region, clip) in self.visible_widgets.items():
            for band in bands:
                band_clip = intersection(clip, band)
                x, y, width, height = intersection(region, band_clip)
                if width and height:
                    yield region, band_clip, widget.render_lines(Region(x - region.x, y - region.y, width, height))


def use_cropped_compositor(screen: Screen) -> None:
    """Called from a new screen's __init__, before it is mounted (nothing is in the compositor yet)."""
    screen._compositor = CroppedCompositor()
