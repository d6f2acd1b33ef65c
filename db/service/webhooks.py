"""Managing partners' webhooks (`orderq webhooks add/list/remove/log`): who is told of which events, where.

An admin's, or the operator's at the shell (Action.PARTNERS, as the partners and their keys): a hook
carries a secret and sends order data out of the building. Every add and remove is an event
(entity "webhook", ref the partner), in the transaction of the change. The secret is never shown.

What a hook is sent, and when, is db.webhooks (the events' own transactions) and db.deliver.webhook
(the worker); this module only keeps the subscriptions and reads their log.
"""
from __future__ import annotations

from typing import Any

from core.errors import NotFound, ValidationError
from core.permissions import Action
from core.webhooks import WebhookInputError, check_url, parse_events
from db import events, webhooks
from db.service.context import Context
from db.service.partners import PartnerService, get_partner


class WebhookService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def add(self, partner: str, url: str, events_text: str, *, secret: str, all_orders: bool = False) -> webhooks.Webhook:
        """A new subscription. `all_orders`: every order and return (a fulfilment system), not only the
        partner's own; refused for a partner tied to one customer (it may see only that customer's)."""
        self.ctx.require(Action.PARTNERS, partner)
        try:
            url = check_url(url)
            wanted = parse_events(events_text)
        except WebhookInputError as e:
            raise ValidationError(str(e), field=e.field) from None
        PartnerService._check_secret(secret)  # the partners' one rule for a shared secret
        now = self.ctx.now()
        with self.ctx.write() as c:
            p = get_partner(c, partner)
            if p is None:
                raise NotFound(f"unknown partner {partner!r} (`orderq partners list` shows them)", field="partner")
            if all_orders and p.customer is not None:
                raise ValidationError(f"partner {partner!r} orders for customer {p.customer} only; "
                                      "--all-orders is for a partner tied to no customer", field="all_orders")
            scope = "all" if all_orders else "partner"
            hook_id = webhooks.add(c, partner_id=p.id, url=url, events=wanted, secret=secret, scope=scope, now=now)
            events.append(c, at=now, actor=self.ctx.actor.name, entity="webhook", entity_id=hook_id, ref=p.name,
                          action="webhook_added", data={"url": url, "events": wanted, "scope": scope})
            hook = webhooks.get(c, hook_id)
        assert hook is not None
        return hook

    def list(self, *, removed: bool = False) -> list[webhooks.Webhook]:
        self.ctx.require(Action.PARTNERS)
        with self.ctx.store.read() as c:
            return webhooks.listing(c, removed=removed)

    def remove(self, hook_id: int) -> int:
        """Stop the hook; what it still owed is given up (failed, "webhook N was removed"). Returns how many."""
        self.ctx.require(Action.PARTNERS, str(hook_id))
        now = self.ctx.now()
        with self.ctx.write() as c:
            hook = webhooks.get(c, hook_id)
            if hook is None or hook.removed_at is not None:
                raise NotFound(f"no webhook {hook_id} (`orderq webhooks list` shows them)", field="id")
            given_up = webhooks.remove(c, hook_id, now=now)
            events.append(c, at=now, actor=self.ctx.actor.name, entity="webhook", entity_id=hook_id, ref=hook.partner,
                          action="webhook_removed", data={"url": hook.url, "given_up": given_up})
        return given_up

    def log(self, partner: str | None = None, *, limit: int = 200) -> list[dict[str, Any]]:
        """Deliveries to webhooks (of `partner`), newest first, each with its last tries."""
        self.ctx.require(Action.PARTNERS)
        with self.ctx.store.read() as c:
            pid = None
            if partner is not None:
                p = get_partner(c, partner)
                if p is None:
                    raise NotFound(f"unknown partner {partner!r} (`orderq partners list` shows them)", field="partner")
                pid = p.id
            return webhooks.log(c, partner_id=pid, limit=limit)
