"""Small pieces of the app shell: the refusal screen, the keymap file, the theme files."""
from __future__ import annotations

from pathlib import Path

from tui.keymap import keymap_path, load_keymap, parse_keymap
from tests.conftest import connect_db


async def test_refusal_screen_says_why_and_exits_2() -> None:
    from tui.refusal import RefusalApp

    app = RefusalApp("unknown user 'mallory': ask an admin to run `orderq users add mallory --role …`")
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.pause()
        text = str(app.screen.query_one("Static").render())
        assert "access refused" in text and "mallory" in text
        await pilot.press("x")
        await pilot.pause()
    assert app.return_code == 2


def test_keymap_file_forms_and_problems(tmp_path: Path) -> None:
    mapping, problems = parse_keymap('"queue.claim-next" = "x"\n[queue]\nsearch = ["s", "slash"]\n'
                                     '[app]\nhelp = 3\n')
    assert mapping == {"queue.claim-next": "x", "queue.search": "s,slash"}
    assert problems == ["app.help: expected a key name or a list of key names"]
    assert parse_keymap('[keys]\n"queue.mine" = "M"\n')[0] == {"queue.mine": "M"}
    assert parse_keymap("this is = = not toml")[1][0].startswith("not valid TOML")
    assert load_keymap(tmp_path / "missing.toml") == ({}, [])
    assert keymap_path({"ORDERQ_KEYS": "/x/keys.toml"}) == Path("/x/keys.toml")
    assert keymap_path({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/orderq/keys.toml")


async def test_bad_keys_file_is_reported_not_fatal(queue_db: Path, make_app, tmp_path: Path,  # noqa: ANN001
                                                   monkeypatch) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text("[queue\n")
    monkeypatch.setenv("ORDERQ_KEYS", str(keys))
    app = make_app(queue_db, keys_file=True)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause()
        assert any("keys file" in n.message and "not valid TOML" in n.message for n in app._notifications)


def test_theme_files_validate(tmp_path: Path) -> None:
    import pytest

    from themes import load_themes

    themes = load_themes()
    assert {t.name for t in themes} >= {"orderq-dark", "orderq-light", "wallboard-hc", "green-screen"}
    for t in themes:  # every theme defines the slack colours the queue uses
        assert {"slack-overdue", "slack-at-risk", "slack-soon", "slack-ok", "mine"} <= set(t.variables)
    good = (Path(__file__).resolve().parents[2] / "themes" / "orderq-dark.toml").read_text()
    (tmp_path / "bad.toml").write_text('colour = "typo"\n' + good)
    with pytest.raises(ValueError, match="bad.toml: unknown key 'colour'"):
        load_themes(tmp_path)
    (tmp_path / "bad.toml").write_text(good.replace('primary = "#4f9fe0"', 'primary = "blurple"'))
    with pytest.raises(ValueError, match="bad.toml: 'primary': 'blurple' is not a colour"):
        load_themes(tmp_path)
    (tmp_path / "bad.toml").write_text(good.replace("dark = true", "dark = 1"))
    with pytest.raises(ValueError, match="'dark' must be true or false"):
        load_themes(tmp_path)


async def test_idle_session_ends_and_gives_back(queue_db: Path, make_app) -> None:  # noqa: ANN001
    
    from tests.helpers import until

    app = make_app(queue_db, idle_timeout=60)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("c")
        await pilot.pause()
        number = app.claims.items()[0].number
        assert not app._hung_up
        app.idle_timeout = 0.2  # now nobody types for longer than that
        assert await until(pilot, lambda: app._hung_up, timeout=10)
    c = connect_db(queue_db)
    assert c.execute("SELECT claimed_by FROM orders WHERE number = ?", (number,)).fetchone()[0] is None
    c.close()
