"""Typed keys for everything the application holds: declared in one place, set up in gateway.app."""

from collections.abc import Awaitable, Callable

import httpx
import socketio
from aiohttp import web
from pymongo import AsyncMongoClient
from redis.asyncio import Redis
from saq import Queue

from gateway.events.bus import EventBus
from gateway.payments.vendors import PaymentVendors
from gateway.realtime.hub import RealtimeHub
from gateway.security.passwords import PasswordHasher
from gateway.security.rate_limits import RateLimiter
from gateway.security.tokens import TokenService
from gateway.settings import Settings
from gateway.tickets.runtime import TicketsRuntime
from providers.analytics.base import AnalyticsSink
from providers.email import EmailSender
from providers.maps.base import MapsProvider
from providers.push.base import PushSender
from providers.sms import SmsSender
from providers.storage.base import ObjectStore

ReadinessCheck = Callable[[], Awaitable[None]]

SETTINGS = web.AppKey("settings", Settings)
MAX_JSON_DEPTH = web.AppKey("max_json_depth", int)
MONGO_CLIENT = web.AppKey("mongo_client", AsyncMongoClient)
REDIS = web.AppKey("redis", Redis)
HTTP_CLIENT = web.AppKey("http_client", httpx.AsyncClient)
JOB_QUEUE = web.AppKey("job_queue", Queue)
SOCKETIO = web.AppKey("socketio", socketio.AsyncServer)
# Named dependencies /readyz checks; each raises when its dependency cannot serve.
READINESS_CHECKS = web.AppKey("readiness_checks", dict[str, ReadinessCheck])
OPENAPI_DOCUMENT = web.AppKey("openapi_document", dict)
TOKENS = web.AppKey("tokens", TokenService)
PASSWORDS = web.AppKey("passwords", PasswordHasher)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
EMAIL_SENDER = web.AppKey("email_sender", EmailSender)
SMS_SENDER = web.AppKey("sms_sender", SmsSender)
EVENT_BUS = web.AppKey("event_bus", EventBus)
REALTIME_HUB = web.AppKey("realtime_hub", RealtimeHub)
PUSH_SENDER = web.AppKey("push_sender", PushSender)
OBJECT_STORE = web.AppKey("object_store", ObjectStore)
MAPS = web.AppKey("maps", MapsProvider)
ANALYTICS_SINK = web.AppKey("analytics_sink", AnalyticsSink)
PAYMENTS = web.AppKey("payments", PaymentVendors)
TICKETS = web.AppKey("tickets", TicketsRuntime)
