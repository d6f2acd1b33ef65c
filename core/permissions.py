"""Who may do what. The service layer checks this for every command, whichever front end asks."""
from __future__ import annotations

from enum import StrEnum

from core.enums import Role
from core.errors import PermissionDenied


class Action(StrEnum):
    ORDER_VIEW = "order.view"
    ORDER_CREATE = "order.create"
    ORDER_WORK = "order.work"          # claim, tick, hold, unhold, release, cancel, edit lines
    ORDER_SHIP = "order.ship"
    LIFT_CREDIT_HOLD = "order.lift_credit_hold"
    OVERRIDE = "order.override"
    REASSIGN = "claim.reassign"
    FORCE_RELEASE = "claim.force_release"
    RETURN_VIEW = "return.view"
    RETURN_WORK = "return.work"
    RETURN_APPROVE = "return.approve"
    WALLBOARD = "wallboard.view"
    KPI = "kpi.view"
    EVENTS = "events.view"
    USERS = "users.manage"
    RULES = "rules.manage"
    IMPORT = "data.import"
    #: a customer's own record: name, tier, credit limit, "PO required" (what credit and triage rest on)
    CUSTOMER_EDIT = "customer.edit"
    #: a customer's addresses and contacts: a rep on the phone records a new ship-to there and then
    CUSTOMER_ADDRESS = "customer.address"


_REP = {Action.ORDER_VIEW, Action.ORDER_CREATE, Action.ORDER_WORK, Action.ORDER_SHIP, Action.EVENTS, Action.RETURN_VIEW,
        Action.CUSTOMER_ADDRESS}
_RETURNS = {Action.RETURN_VIEW, Action.RETURN_WORK, Action.ORDER_VIEW, Action.EVENTS}
_SUPERVISOR = (
    _REP
    | _RETURNS
    | {
        Action.LIFT_CREDIT_HOLD,
        Action.OVERRIDE,
        Action.REASSIGN,
        Action.FORCE_RELEASE,
        Action.RETURN_APPROVE,
        Action.WALLBOARD,
        Action.KPI,
        Action.IMPORT,
        Action.CUSTOMER_EDIT,
    }
)
_ADMIN = {Action.USERS, Action.RULES, Action.IMPORT, Action.EVENTS, Action.KPI, Action.ORDER_VIEW, Action.RETURN_VIEW,
          Action.CUSTOMER_EDIT, Action.CUSTOMER_ADDRESS}

MATRIX: dict[Role, frozenset[Action]] = {
    Role.REP: frozenset(_REP),
    Role.RETURNS: frozenset(_RETURNS),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(_ADMIN),
}


def allowed(role: Role, action: Action) -> bool:
    return action in MATRIX[role]


def require(role: Role, action: Action, user: str) -> None:
    if not allowed(role, action):
        raise PermissionDenied(f"{user} ({role.value}) may not {action.value.replace('.', ' ').replace('_', ' ')}")
