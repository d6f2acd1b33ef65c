"""Who may do what. The service layer checks this for every command, whichever front end asks."""
from __future__ import annotations

from enum import StrEnum

from core.enums import Role
from core.errors import PermissionDenied
from core.labels import ROLE_GROUP, ROLE_PERSON, and_list


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
    STOCK_RECEIVE = "stock.receive"    # book incoming stock (there is no warehouse role: a supervisor)
    #: a customer's own record: name, tier, credit limit, "PO required", "ship complete only" (what credit,
    #: triage and shipping rest on)
    CUSTOMER_EDIT = "customer.edit"
    #: a customer's addresses and contacts: a rep on the phone records a new ship-to there and then
    CUSTOMER_ADDRESS = "customer.address"
    #: partners and their API keys and webhook secrets: credentials, like users, so an admin's
    PARTNERS = "partners.manage"


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
        Action.STOCK_RECEIVE,
        Action.CUSTOMER_EDIT,
    }
)
_ADMIN = {Action.USERS, Action.PARTNERS, Action.RULES, Action.CUSTOMER_EDIT, Action.CUSTOMER_ADDRESS, Action.IMPORT, Action.EVENTS,
          Action.KPI, Action.ORDER_VIEW, Action.RETURN_VIEW}

MATRIX: dict[Role, frozenset[Action]] = {
    Role.REP: frozenset(_REP),
    Role.RETURNS: frozenset(_RETURNS),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(_ADMIN),
}


#: what each action lets someone do, as the end of "Only supervisors can …": the words, with
#: `{ref}` for the item refused (and what it reads without one)
PHRASE: dict[Action, tuple[str, str]] = {
    Action.ORDER_VIEW: ("look at {ref}", "orders"),
    Action.ORDER_CREATE: ("enter orders", ""),
    Action.ORDER_WORK: ("work {ref}", "orders"),
    Action.ORDER_SHIP: ("ship {ref}", "orders"),
    Action.LIFT_CREDIT_HOLD: ("lift the credit hold on {ref}", "an order"),
    Action.OVERRIDE: ("override the class or due time of {ref}", "an order"),
    Action.REASSIGN: ("reassign {ref}", "orders"),
    Action.FORCE_RELEASE: ("force-release the claim on {ref}", "an order"),
    Action.RETURN_VIEW: ("look at {ref}", "returns"),
    Action.RETURN_WORK: ("work {ref}", "returns"),
    Action.RETURN_APPROVE: ("approve {ref}", "returns"),
    Action.WALLBOARD: ("open the wallboard", ""),
    Action.KPI: ("see the KPIs", ""),
    Action.EVENTS: ("read the event log", ""),
    Action.USERS: ("manage users", ""),
    Action.RULES: ("change the rules", ""),
    Action.IMPORT: ("import {ref}", "data"),
    Action.STOCK_RECEIVE: ("book stock received for {ref}", "a product"),
    Action.CUSTOMER_EDIT: ("change customer {ref}", "details"),
    Action.CUSTOMER_ADDRESS: ("change the addresses and contacts of customer {ref}", "details"),
    Action.PARTNERS: ("manage partners and their keys", ""),
}


def allowed(role: Role, action: Action) -> bool:
    return action in MATRIX[role]


def refusal(user: str, role: Role | None, action: Action, ref: str | None = None) -> str:
    """The refusal as a sentence a person reads: "Only supervisors can open the wallboard; alice
    is a rep." `role` None is the operator at the shell, who is no user row. One place builds
    these, so the CLI, the TUI and the audit log say the same thing."""
    who = [ROLE_GROUP[r] for r in Role if action in MATRIX[r]]
    # a new action without words yet still refuses in words, not with a traceback
    template, noun = PHRASE.get(action, (action.value.replace(".", " ").replace("_", " "), ""))
    if "{ref}" in template:
        what = template.format(ref=ref or noun)
    else:
        what = template + (f" ({ref})" if ref else "")
    can = f"Only {and_list(who)} can {what}" if who else f"Nobody can {what}"
    if role is None:
        return f"{can}; the shell operator is no user here: name one with --user."
    return f"{can}; {user} is {ROLE_PERSON[role]}."


def require(role: Role, action: Action, user: str) -> None:
    if not allowed(role, action):
        raise PermissionDenied(refusal(user, role, action))
