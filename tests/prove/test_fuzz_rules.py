"""Bad-input fuzzing of the rules file: random mutations of the shipped default TOML.

Whatever the mutation, `parse_rules` returns Rules or raises RulesError (never another
exception), and a structural mutation's error names a key on the path that was changed. The
console script with a bad $ORDERQ_RULES refuses in one line, exit 2, and writes nothing.
"""
from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import RulesError
from core.rules import Rules, parse_rules
from db.config import default_rules_text
from tests.conftest import run_cli
from tests.prove.conftest import fingerprint

DEFAULT = tomllib.loads(default_rules_text())


def _str(v: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped, the rest as is."""
    out = []
    for ch in v:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _key(k: str) -> str:
    return _str(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def dump_toml(doc: dict[str, Any], prefix: tuple[str, ...] = ()) -> str:
    """A small TOML writer: scalars and arrays inline, dicts as [tables]."""
    out, tables = [], []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            out.append(f"{_key(k)} = {_value(v)}")
    text = ""
    if prefix:
        text += "[" + ".".join(_key(p) for p in prefix) + "]\n"
    text += "\n".join(out) + ("\n" if out else "")
    for k, v in tables:
        text += "\n" + dump_toml(v, (*prefix, k))
    return text


def paths(doc: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for k, v in doc.items():
        out.append((*prefix, k))
        if isinstance(v, dict):
            out += paths(v, (*prefix, k))
    return out


PATHS = paths(DEFAULT)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)
SCALARS = st.one_of(
    st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    TEXT, st.sampled_from(["P0", "P5", "p1", "", "credit", "online", "bogus", "-1", "15%", "1e400"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(TEXT.filter(bool), inner, max_size=2)),
                      max_leaves=5)


def _copy(d: Any) -> Any:
    return json.loads(json.dumps(d))


def _get_parent(doc: dict, path: tuple[str, ...]) -> dict:
    for p in path[:-1]:
        doc = doc[p]
    return doc


def assert_names_the_key(err: RulesError, path: tuple[str, ...]) -> None:
    assert err.field, f"no field on {err.message!r}"
    assert any(p in err.message or repr(p)[1:-1] in err.message for p in path), f"{err.message!r} does not name any of {path}"


def test_the_default_round_trips() -> None:
    assert isinstance(parse_rules(dump_toml(DEFAULT)), Rules)


@settings(max_examples=80, deadline=None)
@given(path=st.sampled_from(PATHS), value=VALUES)
def test_a_replaced_value_is_accepted_or_named(path: tuple[str, ...], value: Any) -> None:
    doc = _copy(DEFAULT)
    _get_parent(doc, path)[path[-1]] = value
    try:
        parse_rules(dump_toml(doc))
    except RulesError as e:
        assert_names_the_key(e, path)


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(PATHS))
def test_a_removed_key_is_accepted_or_named(path: tuple[str, ...]) -> None:
    doc = _copy(DEFAULT)
    del _get_parent(doc, path)[path[-1]]
    try:
        parse_rules(dump_toml(doc))
    except RulesError as e:
        assert_names_the_key(e, path[:-1] or path)


@settings(max_examples=80, deadline=None)
@given(path=st.sampled_from([()] + [p for p in PATHS if isinstance(_get_parent(DEFAULT, p)[p[-1]], dict)]),
       name=TEXT.filter(lambda s: s.strip() == s and s), value=SCALARS)
def test_an_unknown_key_is_named(path: tuple[str, ...], name: str, value: Any) -> None:
    doc = _copy(DEFAULT)
    target = doc
    for p in path:
        target = target[p]
    if name in target:
        return
    target[name] = value
    try:
        parse_rules(dump_toml(doc))
    except RulesError as e:
        assert_names_the_key(e, (*path, name))
    else:
        # only maps keyed by free names (request types, categories) may take a new key
        assert path and path[-1] in ("request_types", "window_days_by_category", "tiers", "sla_minutes")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_edits_of_the_text_never_crash(data: st.DataObject) -> None:
    text = default_rules_text()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 8)))
        text = text[:i] + data.draw(st.text(max_size=6)) + text[j:]
    try:
        parse_rules(text, "fuzzed.toml")
    except RulesError as e:
        assert e.message.startswith("fuzzed.toml:")


@pytest.fixture(scope="module")
def rules_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("fuzzrules") / "r.db"
    run_cli("--db", str(p), "demo", "--orders", "30", "--seed", "2", check=True)
    return p


@pytest.mark.parametrize("mutate", [
    lambda t: t.replace("P1 = 60", "P1 = -5"),
    lambda t: t.replace('priority = "P3"', 'priority = "P7"', 1),
    lambda t: t + "\n[bogus]\nx = 1\n",
    lambda t: t.replace("[sla_minutes]", "[sla_minutes"),
])
def test_the_app_stops_on_a_bad_rules_file(rules_db: Path, tmp_path: Path, mutate) -> None:  # noqa: ANN001
    demo_db = rules_db
    bad = tmp_path / "rules.toml"
    bad.write_text(mutate(default_rules_text()), encoding="utf-8")
    before = fingerprint(demo_db)
    p = run_cli("--db", str(demo_db), "claim", "--user", "alice", env={"ORDERQ_RULES": str(bad)})
    assert p.returncode == 2
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in p.stderr and "rules.toml" in lines[0], p.stderr
    assert fingerprint(demo_db) == before
