"""The few typed keys the aiohttp application holds: its Services, and what only its wiring reads."""

import socketio
from aiohttp import web

from gateway.probe import ReadinessCheck
from gateway.services import Services

SERVICES = web.AppKey("services", Services)
SOCKETIO = web.AppKey("socketio", socketio.AsyncServer)
# Named dependencies /readyz checks; each raises when its dependency cannot serve.
READINESS_CHECKS = web.AppKey("readiness_checks", dict[str, ReadinessCheck])
OPENAPI_DOCUMENT = web.AppKey("openapi_document", dict)
MAX_JSON_DEPTH = web.AppKey("max_json_depth", int)
