"""The F4 prompt list: typing filters on value and label, arrows move, enter picks, escape cancels."""
from __future__ import annotations

from textual.app import App

from tui.widgets.prompt_list import PromptList, PromptRows, matches

ITEMS = [(f"C{i:05d}", f"{'North' if i % 7 == 0 else 'Blue'} Trading {i}") for i in range(1, 5001)]


class PickApp(App):
    def __init__(self, items, initial: str = "") -> None:  # noqa: ANN001
        super().__init__()
        self.items = items
        self.initial = initial
        self.picked: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(PromptList("Customer", self.items, self.initial), self.picked.append)


def test_matches_words_and_prefix_first() -> None:
    values = ["AB-1", "XAB-2", "C"]
    hay = [f"{v}\tname {v}".casefold() for v in values]
    assert matches(hay, values, "ab") == [0, 1]
    assert matches(hay, values, "") == [0, 1, 2]
    assert matches(hay, values, "name xab") == [1]


async def test_filter_move_pick() -> None:
    app = PickApp(ITEMS)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        rows = app.screen.query_one(PromptRows)
        assert len(rows.shown) == 5000
        await pilot.press(*"north 49")  # label words, any order of fields
        await pilot.pause()
        labels = [ITEMS[i][1] for i in rows.shown]
        assert labels and all("North" in lb and "49" in lb for lb in labels)
        assert "of 5,000" in str(app.screen.query_one("#prompt-count").render())
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.picked == [ITEMS[rows.shown[1]][0]]


async def test_initial_value_and_escape() -> None:
    app = PickApp(ITEMS, initial="C04321")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        rows = app.screen.query_one(PromptRows)
        assert rows.value == "C04321"
        await pilot.press("escape")
        await pilot.pause()
        assert app.picked == [None]


async def test_no_match_enter_does_nothing() -> None:
    app = PickApp(ITEMS)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"zzzz", "enter")
        await pilot.pause()
        assert app.picked == []
        assert isinstance(app.screen, PromptList)
        await pilot.press("backspace", "backspace", "backspace", "backspace", "pagedown", "enter")
        await pilot.pause()
        assert app.picked and app.picked[0] is not None and app.picked[0] != ITEMS[0][0]
