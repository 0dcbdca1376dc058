"""Outbound Messages: rules watching committed changes, a persistent queue, delivery.

Rules come from three places, later ones replacing earlier ones of the same name: the
schema file's ``outbound_messages`` list, ``EmulatorOptions.extra["outbound_rules"]``,
and the admin endpoint at run time (kept in the queue database, so they survive a
restart). A store listener sees every committed insert and update; for each active
rule on that object whose trigger and condition match, it queues one notification.
The delivery worker (:mod:`crmbridge.emulator.outbound_queue`) does the rest.

Admin endpoints (loopback + admin token, like ``/__emulator/faults``):

- ``GET /__emulator/outbound``: rules and the queue (add ``?pending=true`` for
  undelivered ones only);
- ``POST /__emulator/outbound/rules``: add or replace a rule (JSON, same keys as the
  schema file); ``DELETE /__emulator/outbound/rules/{name}``: remove it;
- ``POST /__emulator/outbound/deliver``: make every pending notification due now and
  run a delivery round (returns how many were acknowledged).

Delivery options (``EmulatorOptions.extra``): ``outbound_retry_base_seconds`` (30),
``outbound_retry_max_seconds`` (7200), ``outbound_max_age_seconds`` (86400) and
``outbound_verify`` (CA bundle path or boolean for HTTPS endpoints; default True).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crmbridge.emulator.context import DEFAULT_API_VERSION
from crmbridge.emulator.faults import _admin_guard
from crmbridge.emulator.ids import make_id
from crmbridge.emulator.outbound_queue import (
    DeliverySettings,
    DeliveryWorker,
    EnvelopeIds,
    OutboundQueue,
    QueuedNotification,
)
from crmbridge.emulator.outbound_rules import (
    OutboundRule,
    OutboundRuleError,
    conditions_hold,
    parse_rule,
    rules_from_schema_file,
)
from crmbridge.emulator.soql import SoqlError

if TYPE_CHECKING:
    from crmbridge.emulator.context import EmulatorContext

log = logging.getLogger(__name__)
_SERVICE_KEY = "outbound"


class OutboundService:
    """The org's outbound message rules, queue and delivery worker."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self.ctx = ctx
        extra = ctx.options.extra
        self.queue = OutboundQueue(ctx.data_dir / "outbound.sqlite3")
        self._lock = threading.Lock()
        self._rules: dict[str, OutboundRule] = {}
        self._static_count = 0
        self._next_notification = self.queue.count() + 1
        for spec in self._static_specs():
            self._install(spec, make_id("04k", self._next_static(), ctx.store.pod))
        for spec, action_id in self.queue.saved_rules():
            self._install(spec, action_id)
        settings = DeliverySettings(
            base_delay=float(extra.get("outbound_retry_base_seconds", 30.0)),
            max_delay=float(extra.get("outbound_retry_max_seconds", 7_200.0)),
            max_age=float(extra.get("outbound_max_age_seconds", 86_400.0)),
            verify=extra.get("outbound_verify", True),
        )
        self.worker = DeliveryWorker(
            self.queue,
            rules=self.rules,
            latest_fields=self._latest_fields,
            session_id=self._session_id,
            envelope_ids=self._envelope_ids,
            settings=settings,
            clock=lambda: ctx.clock.now().timestamp(),
        )
        ctx.store.add_listener(self.on_change)

    # --- rules ----------------------------------------------------------------------------

    def _static_specs(self) -> list[Mapping[str, Any]]:
        specs: list[Mapping[str, Any]] = []
        schema_file = self.ctx.options.schema_file
        if schema_file is not None:
            specs.extend(rules_from_schema_file(schema_file))
        specs.extend(self.ctx.options.extra.get("outbound_rules", []))
        return specs

    def _next_static(self) -> int:
        self._static_count += 1
        return self._static_count

    def _install(self, spec: Mapping[str, Any], action_id: str) -> OutboundRule:
        rule = parse_rule(spec, action_id=action_id)
        if self.ctx.schema.get(rule.object) is None:
            raise OutboundRuleError(f"unknown object {rule.object}")
        sobj = self.ctx.schema.get(rule.object)
        assert sobj is not None
        for name in (*rule.fields, *(c.field for c in rule.conditions)):
            if sobj.field(name) is None:
                raise OutboundRuleError(f"{sobj.name} has no field {name}")
        rule = _canonical(rule, sobj)
        with self._lock:
            self._rules[rule.name] = rule
        return rule

    def rules(self) -> dict[str, OutboundRule]:
        with self._lock:
            return dict(self._rules)

    def add_rule(self, spec: Mapping[str, Any]) -> OutboundRule:
        """Add or replace a rule at run time (kept across restarts)."""
        existing = self.rules().get(str(spec.get("name")))
        # Action ids of run-time rules start after any static rule's.
        action_id = (
            existing.action_id
            if existing
            else make_id("04k", 1_000 + len(self.queue.saved_rules()) + 1, self.ctx.store.pod)
        )
        rule = self._install(spec, action_id)
        if rule.where:
            self._where_matches(rule, [])  # a bad WHERE fails now, not on each change
        self.queue.save_rule(spec, action_id)
        return rule

    def remove_rule(self, name: str) -> bool:
        with self._lock:
            found = self._rules.pop(name, None) is not None
        self.queue.delete_rule(name)
        return found

    # --- the store listener ----------------------------------------------------------------

    def on_change(self, sobject: str, operation: str, records: list[dict[str, Any]]) -> None:
        """Queue notifications for committed inserts and updates that match a rule."""
        if operation not in ("insert", "update"):
            return
        rules = [
            r
            for r in self.rules().values()
            if r.active
            and r.object.lower() == sobject.lower()
            and (operation == "insert" or r.trigger == "created_or_edited")
        ]
        if not rules:
            return
        now = self.ctx.clock.now().timestamp()
        queued: list[QueuedNotification] = []
        for rule in rules:
            if rule.where:
                try:
                    matching = self._where_matches(rule, [r["Id"] for r in records])
                except SoqlError:
                    log.exception("outbound rule %s has a bad WHERE", rule.name)
                    continue
                chosen = [r for r in records if r["Id"] in matching]
            else:
                chosen = [r for r in records if conditions_hold(rule.conditions, r)]
            for record in chosen:
                snapshot = {name: record.get(name) for name in rule.fields}
                queued.append(
                    QueuedNotification(
                        id=self._notification_id(),
                        rule=rule.name,
                        object=rule.object,
                        record_id=record["Id"],
                        snapshot=snapshot,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
        if queued:
            self.queue.add(queued)
            self.worker.start()
            self.worker.wake()

    def _notification_id(self) -> str:
        with self._lock:
            number = self._next_notification
            self._next_notification += 1
        return make_id("04l", number, self.ctx.store.pod)

    def _where_matches(self, rule: OutboundRule, ids: Sequence[str]) -> set[str]:
        # Ids come from the store, never from a client, so quoting them is safe.
        id_filter = f"Id IN ({', '.join(repr(i) for i in ids)})" if ids else "Id = null"
        soql = f"SELECT Id FROM {rule.object} WHERE {id_filter} AND ({rule.where})"
        page = self.ctx.query_engine.start(soql, include_deleted=False, batch_size=2000)
        return {record["Id"] for record in page.records}

    # --- what the worker needs ---------------------------------------------------------------

    def _latest_fields(
        self, sobject: str, record_id: str, fields: Sequence[str]
    ) -> dict[str, Any] | None:
        # Stored datetimes are already ``…000Z``, the SOAP dateTime form.
        return self.ctx.store.get(sobject, record_id, list(fields))

    def _session_id(self) -> str:
        user_id = self.ctx.identity.admin_user_id
        return str(self.ctx.auth.issue(user_id, client_id="", kind="soap").token)

    def _envelope_ids(self) -> EnvelopeIds:
        base = self.ctx.base_url
        org15 = self.ctx.org_id_15
        return EnvelopeIds(
            organization_id=self.ctx.org_id,
            enterprise_url=f"{base}/services/Soap/c/{DEFAULT_API_VERSION}/{org15}",
            partner_url=f"{base}/services/Soap/u/{DEFAULT_API_VERSION}/{org15}",
        )

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.worker.start()
        self.worker.wake()

    def stop(self) -> None:
        self.worker.stop()
        self.ctx.store.remove_listener(self.on_change)
        self.queue.close()


def _canonical(rule: OutboundRule, sobj: Any) -> OutboundRule:
    """The rule with field names spelled as the schema spells them."""
    from dataclasses import replace

    fields = tuple(sobj.field(name).name for name in rule.fields)
    return replace(rule, object=sobj.name, fields=fields)


def outbound_service(ctx: EmulatorContext) -> OutboundService:
    """The org's :class:`OutboundService`, created on first use."""
    services = ctx.__dict__.setdefault("services", {})
    service = services.get(_SERVICE_KEY)
    if service is None:
        service = services[_SERVICE_KEY] = OutboundService(ctx)
    return service  # type: ignore[no-any-return]


def setup(ctx: EmulatorContext) -> None:
    """Listen to the store from the start and run the worker with the server."""
    service = outbound_service(ctx)
    ctx.on_start.append(lambda _ctx: service.start())
    ctx.on_stop.append(lambda _ctx: service.stop())


# --- admin endpoints -----------------------------------------------------------------------


def _service_of(request: Request) -> OutboundService:
    return outbound_service(request.app.state.emulator)


async def outbound_overview(request: Request) -> Response:
    denied = _admin_guard(request)
    if denied:
        return denied
    service = _service_of(request)
    pending_only = request.query_params.get("pending", "").lower() == "true"
    items = await run_in_threadpool(service.queue.listing, include_delivered=not pending_only)
    return JSONResponse(
        {
            "rules": [rule.to_json() for rule in service.rules().values()],
            "queue": [item.to_json() for item in items],
        }
    )


async def outbound_rules(request: Request) -> Response:
    denied = _admin_guard(request)
    if denied:
        return denied
    service = _service_of(request)
    if request.method == "DELETE":
        found = await run_in_threadpool(service.remove_rule, request.path_params["name"])
        return Response(status_code=204 if found else 404)
    try:
        spec = json.loads(await request.body() or b"{}")
        if not isinstance(spec, dict):
            raise OutboundRuleError("the body must be a JSON object")
        rule = await run_in_threadpool(service.add_rule, spec)
    except (ValueError, SoqlError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(rule.to_json(), status_code=201)


async def outbound_deliver(request: Request) -> Response:
    denied = _admin_guard(request)
    if denied:
        return denied
    service = _service_of(request)

    def deliver_now() -> int:
        service.queue.make_all_due(service.ctx.clock.now().timestamp())
        return service.worker.deliver_due()

    acknowledged = await run_in_threadpool(deliver_now)
    return JSONResponse({"acknowledged": acknowledged})


routes = [
    Route("/__emulator/outbound", outbound_overview, methods=["GET"]),
    Route("/__emulator/outbound/rules", outbound_rules, methods=["POST"]),
    Route("/__emulator/outbound/rules/{name}", outbound_rules, methods=["DELETE"]),
    Route("/__emulator/outbound/deliver", outbound_deliver, methods=["POST"]),
]
