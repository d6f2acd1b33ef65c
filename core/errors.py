"""One family of errors, so every front end can turn a refusal into one clear line."""
from __future__ import annotations


class OrderqError(Exception):
    """Base for every refusal a user may see. The message is the whole explanation."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: the input field the refusal is about, so a form can show it next to that field
        self.field = field


class DomainError(OrderqError):
    """An illegal transition or a failed guard."""

    code = "domain"


class ValidationError(OrderqError):
    """Input that does not make sense (bad quantity, unknown SKU, ...)."""

    code = "invalid"


class NotFound(OrderqError):
    code = "not_found"


class PermissionDenied(OrderqError):
    code = "forbidden"


class Unauthenticated(OrderqError):
    """No credential, or one nobody holds (an API key that is missing, wrong or rotated away): the
    caller is not known at all, as against PermissionDenied, a known caller who may not."""

    code = "unauthenticated"


class ClaimLost(OrderqError):
    """The caller's lease lapsed or another user holds the item: fencing refused the write."""

    code = "claim_lost"


class Conflict(OrderqError):
    """The row changed since the caller read it (version check failed)."""

    code = "conflict"


class RulesError(OrderqError):
    """The rules file is bad; the message names the key."""

    code = "rules"
