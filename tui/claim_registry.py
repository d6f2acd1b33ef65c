"""The claims one TUI session holds (orders and returns), so the app can renew them at half the lease and
give them all back when the session ends."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HeldClaim:
    queue: str   # "orders" | "returns"
    number: str
    token: str


class ClaimRegistry:
    """The claims this session holds, so the app can renew them and give them back on exit."""

    def __init__(self) -> None:
        self._held: dict[str, HeldClaim] = {}

    def add(self, queue: str, number: str, token: str) -> None:
        self._held[number] = HeldClaim(queue, number, token)

    def remove(self, number: str) -> None:
        self._held.pop(number, None)

    def token_for(self, number: str) -> str | None:
        held = self._held.get(number)
        return held.token if held else None

    def by_token(self, token: str) -> HeldClaim | None:
        return next((h for h in self._held.values() if h.token == token), None)

    def items(self) -> list[HeldClaim]:
        return list(self._held.values())

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, number: object) -> bool:
        return number in self._held
