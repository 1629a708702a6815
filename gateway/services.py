"""What the domain works with, held in one frozen object built once per process by gateway.composition.

Flows take `Services` (or the one piece they use) as their first argument; nothing in the domain reads an aiohttp
application or request. The gateway and the worker build the same object, but for the realtime hub, which only a
gateway holding sockets has.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import httpx
from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from saq import Queue

from documents.clock import stored_now
from documents.payment import PaymentPurpose
from gateway.crypto.sealing import SealingKeys
from gateway.messaging.bus import MessageBus
from gateway.security.passwords import PasswordHasher
from gateway.security.rate_limits import RateLimiter
from gateway.security.tokens import TokenService
from gateway.settings import Settings
from gateway.vendors.payments import PaymentVendors
from providers.analytics.base import AnalyticsSink
from providers.email import EmailSender
from providers.maps.base import MapsProvider
from providers.push.base import PushSender
from providers.sms import SmsSender
from providers.storage.base import ObjectStore

if TYPE_CHECKING:
    # Owned by the domain packages, which import this module: named here for the type checker only.
    from documents.booking import Booking
    from documents.user import User
    from gateway.payments.purposes import PurposeHandler
    from gateway.privacy.registry import PersonalDataRegistry
    from gateway.realtime.hub import RealtimeHub
    from gateway.tickets.runtime import TicketsRuntime


@dataclass(frozen=True)
class Services:
    settings: Settings
    mongo: AsyncMongoClient
    redis: Redis
    # Outbound HTTP to vendors, shared by every adapter.
    http: httpx.AsyncClient
    queue: Queue
    bus: MessageBus
    tokens: TokenService
    passwords: PasswordHasher
    limits: RateLimiter
    # Seal TOTP secrets at rest (auth.totp_encryption_key, and the previous keys that still open).
    totp_keys: SealingKeys
    email: EmailSender
    sms: SmsSender
    push: PushSender
    storage: ObjectStore
    maps: MapsProvider
    analytics: AnalyticsSink
    payments: PaymentVendors
    # What each payment purpose pays for (gateway.composition registers them).
    purposes: "Mapping[PaymentPurpose, PurposeHandler]"
    # Called after a paid booking is cancelled with a refund due (the payments flow asks the vendor).
    booking_refunders: "tuple[Callable[[Services, Booking], Awaitable[None]], ...]"
    tickets: "TicketsRuntime"
    # Each kind of personal data with its exporter and eraser (gateway.composition registers them).
    personal_data: "PersonalDataRegistry"
    # Called once a sign-in completes (both steps, with two-factor).
    sign_in_hooks: "tuple[Callable[[Services, User], Awaitable[None]], ...]"
    # This node's sockets; None in the worker, which holds none.
    hub: "RealtimeHub | None" = None
    # The time flows compare expiries with; tests move it.
    clock: Callable[[], datetime] = field(default=stored_now)
