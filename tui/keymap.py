"""Remappable keys: a TOML file maps binding ids to keys, applied with `App.set_keymap`.

The file is `$ORDERQ_KEYS`, else `$XDG_CONFIG_HOME/orderq/keys.toml` (default `~/.config`).
Either flat quoted ids or tables work, optionally under `[keys]`:

    "queue.claim-next" = "ctrl+n"
    [queue]
    search = ["slash", "ctrl+f"]
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path


def keymap_path(env: Mapping[str, str] = os.environ) -> Path:
    if env.get("ORDERQ_KEYS"):
        return Path(env["ORDERQ_KEYS"]).expanduser()
    base = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "orderq" / "keys.toml"


def _flatten(prefix: str, data: Mapping[str, object], out: dict[str, str], problems: list[str]) -> None:
    for k, v in data.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            _flatten(key, v, out, problems)
        elif isinstance(v, str) and v.strip():
            out[key] = v.strip()
        elif isinstance(v, list) and v and all(isinstance(x, str) and x.strip() for x in v):
            out[key] = ",".join(x.strip() for x in v)
        else:
            problems.append(f"{key}: expected a key name or a list of key names")


def parse_keymap(text: str) -> tuple[dict[str, str], list[str]]:
    """(binding id → keys, problems). Never raises on content: a bad line is reported, the rest used."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return {}, [f"not valid TOML: {e}"]
    if isinstance(data.get("keys"), Mapping) and len(data) == 1:
        data = data["keys"]
    out: dict[str, str] = {}
    problems: list[str] = []
    _flatten("", data, out, problems)
    return out, problems


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    p = path or keymap_path()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except OSError as e:
        return {}, [f"{p}: {e.strerror}"]
    mapping, problems = parse_keymap(text)
    return mapping, [f"{p.name}: {m}" for m in problems]
