"""The marketplace the model drives: two gateway processes, the vendors' emulators, and a worker context beside them.

The gateways are real `lango serve` processes sharing one database and Redis, configured with vendor credentials
that point at the emulators served here, so the model pays, settles and forges exactly where a vendor would.
The worker context is the Services `lango worker` builds: the model runs the time-driven jobs through it
with a clock moved forward, instead of waiting for holds to lapse. Everything async runs on `loop`; the model,
which is synchronous, calls in through `call`.
"""

import asyncio
import contextlib
import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from beanie import PydanticObjectId
from pymongo import AsyncMongoClient

from documents.calendar_feed import CalendarImport
from documents.payment import Payment
from documents.payment_event import PaymentEvent
from gateway.bookings.holds import expire_lapsed_holds
from gateway.bookings.lifecycle import complete_finished_stays
from gateway.calendar_sync.sync import sync_import
from gateway.composition import open_services
from gateway.crypto.signing_keys import new_signing_key
from gateway.payments.reconcile import reconcile_now
from gateway.payouts.schedule import pay_out_now
from gateway.reviews.reveal import sweep_closed_windows
from gateway.services import Services
from gateway.settings import Settings
from gateway.tickets.orders import expire_lapsed_orders
from gateway.vendors.payments import paybill_urls
from providers.emulators import (
    DARAJA_SANDBOX,
    PAYPAL_SANDBOX,
    STRIPE_SANDBOX,
    DarajaSandbox,
    DarajaSettings,
    PaypalEmulatorSettings,
    PaypalSandbox,
    StripeEmulatorSettings,
    StripeSandbox,
    create_daraja_emulator,
    create_paypal_emulator,
    create_stripe_emulator,
    serve_emulator,
)
from tests.conftest import free_port, make_settings
from tests.factories import create_user
from tests.realtime.conftest import Cluster, GatewayNode

T = TypeVar("T")
MPESA_CALLBACK_TOKEN = "model-callback-token-" + "x" * 16
# The model settles every push itself: the emulator never calls back on its own.
NEVER_ON_ITS_OWN_S = 3600.0
QUIET_TIMEOUT_S = 20.0
# A gateway log record starts with its time; the lines after it, up to the next, are its traceback.
_LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d")


@dataclass
class CalendarFeeds:
    """Other sites' calendars the listings import: /<name>.ics answers `files[name]`."""

    files: dict[str, bytes]
    url: str = ""

    def app(self) -> web.Application:
        async def feed(request: web.Request) -> web.Response:
            body = self.files.get(request.match_info["name"])
            if body is None:
                raise web.HTTPNotFound()
            return web.Response(body=body, content_type="text/calendar")

        app = web.Application()
        app.router.add_get("/{name}.ics", feed)
        return app


@dataclass
class Vendors:
    daraja: DarajaSandbox
    stripe: StripeSandbox
    paypal: PaypalSandbox
    urls: dict[str, str]

    def in_flight(self) -> int:
        """Webhooks the emulators are still posting."""
        return sum(sandbox.notifications.in_flight for sandbox in (self.daraja, self.stripe, self.paypal))


class Marketplace:
    """What the model acts on; built by `open_marketplace`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, settings: Settings, nodes: list[GatewayNode],
                 vendors: Vendors, worker: Services, mongo: AsyncMongoClient, feeds: "CalendarFeeds") -> None:  # fmt: skip
        self.loop = loop
        self.settings = settings
        self.nodes = nodes
        self.vendors = vendors
        self.worker = worker
        self._mongo = mongo
        self.feeds = feeds

    @property
    def database(self) -> Any:
        return self._mongo[self.settings.mongodb.database]

    def call(self, work: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
        """Run `work()` on the marketplace's loop from the model's thread and answer its result."""

        async def run() -> T:
            return await work()

        future: Future[T] = asyncio.run_coroutine_threadsafe(run(), self.loop)
        return future.result(timeout)

    async def new_user(self, *roles: str) -> tuple[str, str]:
        """A stored account with these roles: its id and its email."""
        user = await create_user(self.worker, roles=roles or ("guest",))
        return str(user.id), user.email or ""

    async def let_time_pass(self, later: timedelta) -> None:
        """The jobs that time drives, run as if `later` had passed: lapsed holds freed, vendors asked about
        payments no callback settled, abandoned payments expired."""
        now = datetime.now(UTC) + later
        await expire_lapsed_holds(self.worker, now=now)
        await expire_lapsed_orders(self.worker, now=now)
        await reconcile_now(self.worker, now=now)

    async def sync_calendars(self) -> None:
        """The calendar job's work for every imported feed, now: fetched from `feeds` by the worker, which alone may
        reach this loopback server (the gateways run as production and refuse it)."""
        async for feed in CalendarImport.find({}):
            await sync_import(self.worker, feed)

    async def pay_out_later(self, later: timedelta) -> None:
        """The payout job, run as if `later` had passed: earnings past their holdback paid out, payouts without a
        Result asked about."""
        await pay_out_now(self.worker, datetime.now(UTC) + later)

    async def finish_stays_later(self, later: timedelta) -> None:
        """The hourly job that completes stays, run as if `later` had passed: stays checked out by then are completed."""
        await complete_finished_stays(self.worker, (datetime.now(UTC) + later).date())

    async def close_review_windows_later(self, later: timedelta) -> datetime:
        """The review sweep, run on a clock `later` ahead: reviews whose window closed by then join the averages.
        Answers that moved time."""
        moved = datetime.now(UTC) + later
        await sweep_closed_windows(replace(self.worker, clock=lambda: moved))
        return moved

    async def quiet(self) -> None:
        """Wait until nothing the model started is still moving: webhooks posted and applied, jobs run."""
        deadline = self.loop.time() + QUIET_TIMEOUT_S
        while await self._busy():
            if self.loop.time() > deadline:
                raise AssertionError(f"the marketplace did not settle within {QUIET_TIMEOUT_S}s: {await self._busy()}")
            await asyncio.sleep(0.02)

    async def _busy(self) -> str:
        if self.vendors.in_flight():
            return "webhooks in flight"
        queue = self.worker.queue
        if await queue.count("queued") or await queue.count("active"):
            return "jobs queued or running"
        # A statement is stored before the vendor is answered and applied right after, by the node that took it.
        async for statement in PaymentEvent.find({"applied_at": None}):
            if await Payment.find_one({"provider": statement.provider, "provider_reference": statement.reference}):
                return f"statement {statement.id} not applied yet"
        return ""

    async def summary(self) -> dict[str, dict[str, int]]:
        """How many of each thing the runs made, by state: what a soak exercised."""
        counted: dict[str, dict[str, int]] = {}
        for collection in ("bookings", "payments", "ticket_orders", "tickets", "events", "sessions", "payouts", "paybill_payments"):
            field = "revoked_because" if collection == "sessions" else "status"
            states = await self.database[collection].aggregate([{"$group": {"_id": f"${field}", "n": {"$sum": 1}}}])
            counted[collection] = {str(state["_id"]): state["n"] async for state in states}
        return counted

    def logged_about(self, violation: str) -> str:
        """What the gateways logged about the request a violation names (by its request id), tracebacks included."""
        found = re.search(r"'request_id': '([0-9a-f]+)'", violation)
        if found is None:
            return ""
        kept: list[str] = []
        for node in self.nodes:
            within = False
            for line in node.log_path.read_text(errors="replace").splitlines():
                if _LOG_RECORD.match(line):
                    within = found[1] in line
                if within:
                    kept.append(line)
        return "\ngateway logs of that request:\n" + "\n".join(kept[-60:])

    async def payment(self, payment_id: str) -> Payment | None:
        return await Payment.get(PydanticObjectId(payment_id))


def _vendor_settings(vendors: Vendors) -> dict[str, Any]:
    """Settings that point every payment method at the emulators, and let the model's users in with a password."""
    daraja, stripe, paypal = vendors.daraja.settings, vendors.stripe.settings, vendors.paypal.settings
    return {
        "payments": {
            "mpesa": {
                "base_url": vendors.urls["mpesa"], "consumer_key": daraja.consumer_key,
                "consumer_secret": daraja.consumer_secret, "passkey": daraja.passkey, "shortcode": daraja.shortcode,
                "callback_token": MPESA_CALLBACK_TOKEN, "allowed_sources": ["127.0.0.1/32"],
                # The initiator pays out and refunds through B2C, asks Transaction Status and reverses Paybill money.
                "b2c_shortcode": daraja.b2c_shortcode, "initiator_name": daraja.initiator_name,
                "initiator_password": daraja.initiator_password, "certificate": vendors.daraja.certificate.certificate_pem,
            },
            "stripe": {"api_key": stripe.api_key, "webhook_secret": stripe.webhook_secret, "api_base": vendors.urls["stripe"]},
            "paypal": {"base_url": vendors.urls["paypal"], "client_id": paypal.client_id,
                       "client_secret": paypal.client_secret, "webhook_id": paypal.webhook_id},
        },
        # Two-factor has tests of its own; the model's people sign in with a password.
        "auth": {"mfa_required_roles": []},
        # Every person of the model comes from 127.0.0.1 and the emulator's declining and silent phones are shared by
        # every run: limits per address and per phone would soon refuse them all. Limits per person stay as shipped.
        "rate_limits": {name: "1000000/minute" for name in (
            "login_attempts_per_address", "signups_per_address", "sms_per_address", "stk_pushes_per_address",
            "stk_pushes_per_phone")},
        "realtime": {"connects_per_address": "1000000/minute"},
    }  # fmt: skip


def _as_environment(values: dict[str, Any], prefix: str = "LANGO_") -> dict[str, str]:
    """Nested settings as the LANGO_SECTION__KEY variables a gateway process reads."""
    env: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key.upper()}"
        if isinstance(value, dict):
            env.update(_as_environment(value, name + "__"))
        else:
            env[name] = value if isinstance(value, str) else json.dumps(value)
    return env


@contextlib.asynccontextmanager
async def open_marketplace(mongodb_url: str, redis_url: str, workdir: Path, *, nodes: int = 2) -> AsyncIterator[Marketplace]:
    """Emulators, `nodes` gateway processes and the worker context; all stopped when the context ends."""
    first_port = free_port()
    webhook_base = f"http://127.0.0.1:{first_port}"
    async with contextlib.AsyncExitStack() as stack:
        daraja = create_daraja_emulator(DarajaSettings(callback_delay_seconds=NEVER_ON_ITS_OWN_S))
        stripe = create_stripe_emulator(StripeEmulatorSettings(webhook_url=f"{webhook_base}/webhooks/stripe"))
        paypal = create_paypal_emulator(PaypalEmulatorSettings(webhook_url=f"{webhook_base}/webhooks/paypal"))
        urls = {name: await stack.enter_async_context(serve_emulator(app))
                for name, app in (("mpesa", daraja), ("stripe", stripe), ("paypal", paypal))}  # fmt: skip
        vendors = Vendors(daraja[DARAJA_SANDBOX], stripe[STRIPE_SANDBOX], paypal[PAYPAL_SANDBOX], urls)
        configured = _vendor_settings(vendors)
        feeds = CalendarFeeds({})
        feeds.url = await stack.enter_async_context(serve_emulator(feeds.app()))
        settings = make_settings(
            mongodb_url,
            redis_url,
            payments=configured["payments"],
            rate_limits=configured["rate_limits"],
            realtime=configured["realtime"],
            auth={**configured["auth"], "signing_keys": json.dumps({"keys": [new_signing_key()]})},
            redis={"namespace": f"model-{secrets.token_hex(5)}"},
            calendar={"allow_private_addresses": True},
        )
        cluster = Cluster(settings, redis_url, mongodb_url, workdir, extra_env=_as_environment(configured))
        stack.push_async_callback(lambda: asyncio.gather(*(node.stop() for node in cluster.nodes)))
        started = [await cluster.start_node(port=first_port)]
        for _ in range(nodes - 1):
            started.append(await cluster.start_node())
        worker = await stack.enter_async_context(open_services(settings))
        # Paybill payments are validated and confirmed by the first node, as a live shortcode's registered URLs say.
        assert worker.payments.mpesa is not None
        urls = paybill_urls(webhook_base, MPESA_CALLBACK_TOKEN)
        await worker.payments.mpesa.c2b_register(urls.confirmation, urls.validation)
        mongo: AsyncMongoClient = AsyncMongoClient(mongodb_url, tz_aware=True)
        stack.push_async_callback(mongo.close)
        yield Marketplace(asyncio.get_running_loop(), settings, started, vendors, worker, mongo, feeds)
