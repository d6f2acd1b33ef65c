"""The /v1 endpoints: each reads the request, asks db/service, and shapes the answer. Nothing else."""
from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.schemas import (CancelIn, ErrorBody, OrderCreated, OrderIn, OrderOut, OrderPage, Products, ReturnIn,
                         ReturnOut, WebhookAnswer)
from db.service import shopify
from db.service.order_header import HeaderInput
from db.service.orders import LineInput
from db.service.partner_api import Answer, OrderRequest, PartnerApi
from db.service.partners import authenticate
from db.service.returns import ReturnLineInput
from db.store import Store

router = APIRouter(prefix="/v1")
bearer = HTTPBearer(auto_error=False, description="the partner's API key")


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {c: {"model": ErrorBody} for c in (*codes, 400, 401, 403, 413, 415, 422, 503)}


def _store(request: Request) -> Store:
    return request.app.state.stores.get()


async def _key(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
               ) -> HTTPAuthorizationCredentials:
    """No key at all is refused before the body is read (401, whatever the body), and logged."""
    if creds is None or not creds.credentials:
        await run_in_threadpool(lambda: authenticate(_store(request), None))  # raises, after the refusal's event
    return creds  # type: ignore[return-value]


Key = Annotated[HTTPAuthorizationCredentials, Depends(_key)]


def _api(request: Request, creds: HTTPAuthorizationCredentials | None) -> PartnerApi:
    """The caller's partner from its Bearer key (401 / 403 otherwise), named for the log line, and its
    service on *this* thread's connection. WHY here and not in a dependency: FastAPI runs a sync
    dependency and its handler as two thread-pool calls, maybe on two threads, and a connection shared
    by two threads interleaves their transactions (bench_api: requests stuck 5 s, refused as busy);
    one pool call per request is also cheaper."""
    store = _store(request)
    partner = authenticate(store, creds.credentials if creds else None)
    request.state.partner = partner.name
    return PartnerApi.open(store, partner)


def fingerprint(body: OrderIn) -> str:
    """What tells two bodies apart for an Idempotency-Key: the model's JSON, keys sorted."""
    return hashlib.sha256(json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _json(answer: Answer) -> Response:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(json.dumps(answer.body, separators=(",", ":")), status_code=answer.status,
                    media_type="application/json", headers=headers)


@router.post("/orders", status_code=201, response_model=OrderCreated, responses=errors(409),
             summary="Place an order; it is released at once when it passes every check, else queued for a rep")
def post_order(body: OrderIn, caller: Key, request: Request,
               idempotency_key: Annotated[str | None, Header(max_length=255)] = None) -> Response:
    header = None
    if body.ship_to or body.po_number or body.requested_date or body.ship_method or body.note:
        header = HeaderInput(ship_to_address=body.ship_to.model_dump() if body.ship_to else None,
                             po_number=body.po_number, requested_date=body.requested_date,
                             ship_method=body.ship_method, note=body.note)
    req = OrderRequest(lines=[LineInput(sku=ln.sku, qty=ln.qty, unit_price=ln.price) for ln in body.lines],
                       customer=body.customer, external_ref=body.external_ref, type=body.type, header=header)
    return _json(_api(request, caller).create_order(req, key=idempotency_key, fingerprint=fingerprint(body)))


@router.get("/orders", response_model=OrderPage, responses=errors(),
            summary="Orders by your external reference, or every order changed since a cursor, oldest change first")
def list_orders(caller: Key, request: Request, external_ref: Annotated[str | None, Query(max_length=100)] = None,
                updated_since: Annotated[str | None, Query(max_length=100)] = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 100) -> Any:
    api = _api(request, caller)
    if external_ref is not None:
        return {"orders": api.by_external_ref(external_ref), "next_cursor": None, "more": False}
    return api.changes(updated_since, limit)


@router.get("/orders/{number}", response_model=OrderOut, responses=errors(404))
def get_order(number: Annotated[str, Path(max_length=32)], caller: Key, request: Request) -> Any:
    return _api(request, caller).order(number)


@router.post("/orders/{number}/cancel", response_model=OrderOut, responses=errors(404, 409),
             summary="Cancel an order not yet released")
def cancel_order(number: Annotated[str, Path(max_length=32)], body: CancelIn, caller: Key,
                 request: Request) -> Any:
    return _api(request, caller).cancel(number, body.reason)


@router.post("/returns", status_code=201, response_model=ReturnOut, responses=errors(404, 409),
             summary="The customer's return request against a shipped order (the checks of `return new`)")
def post_return(body: ReturnIn, caller: Key, request: Request) -> Any:
    lines = [ReturnLineInput(sku=ln.sku, qty=ln.qty, reason=ln.reason, note=ln.note, opened=ln.opened)
             for ln in body.lines]
    return _api(request, caller).new_return(order=body.order, lines=lines, resolution=body.resolution, note=body.note)


@router.get("/returns/{number}", response_model=ReturnOut, responses=errors(404))
def get_return(number: Annotated[str, Path(max_length=32)], caller: Key, request: Request) -> Any:
    return _api(request, caller).get_return(number)


@router.get("/products", response_model=Products, responses=errors(),
            summary="Active products with their price and the quantity available")
def products(caller: Key, request: Request) -> Any:
    return {"products": _api(request, caller).products()}


@router.post("/webhooks/shopify/{partner}", response_model=WebhookAnswer, responses=errors(409),
             summary="Shopify's orders/create webhook, signed with the partner's webhook secret",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"type": "object"}}}}})
async def shopify_webhook(partner: Annotated[str, Path(max_length=32)], request: Request,
                          x_shopify_topic: Annotated[str | None, Header()] = None,
                          x_shopify_hmac_sha256: Annotated[str | None, Header()] = None,
                          x_shopify_webhook_id: Annotated[str | None, Header()] = None) -> Response:
    raw = await request.body()  # the bytes the signature covers, exactly as sent

    def work() -> Answer:
        got, answer = shopify.receive(_store(request), partner, raw, topic=x_shopify_topic,
                                      hmac_header=x_shopify_hmac_sha256, webhook_id=x_shopify_webhook_id)
        request.state.partner = got.name
        return answer

    return _json(await run_in_threadpool(work))


@router.post("/edi", status_code=201, responses=errors(),
             summary="An X12 850 or EDIFACT ORDERS interchange, as the raw body; the partner is the key's",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/edi-x12": {"schema": {"type": "string"}},
                 "application/edifact": {"schema": {"type": "string"}},
                 "text/plain": {"schema": {"type": "string"}}}}})
async def post_edi(request: Request, caller: Key) -> Response:
    """One order per message, the 997 / CONTRL in the answer (and in the partner's outbox); 201 when
    at least one order was made, else 422 with every message's reason."""
    raw = await request.body()

    def work() -> Response:
        from db.service.edi_intake import EdiIntake

        api = _api(request, caller)  # this thread's connection (see _api)
        s = EdiIntake(api.ctx).import_bytes(raw, name="POST /v1/edi", sender_id=api.partner.id)
        j = s.as_json()
        body = {"orders": [{k: o[k] for k in ("number", "state", "po_number", "queue_reason")} for o in s.orders],
                "rejected": j["rejected"], "acknowledgments": s.documents}
        return Response(json.dumps(body, separators=(",", ":")), status_code=201 if s.orders else 422,
                        media_type="application/json")

    return await run_in_threadpool(work)
