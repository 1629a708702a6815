"""An emulator of PostHog's batch capture endpoint (checks the project key and each event's shape, keeps what it got)
and of its persons bulk deletion (checks the personal API key and the project, forgets the people's events)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

PERSONAL_KEY_DETAIL = "Personal API key found in request Authorization header is invalid."
BULK_DELETE_MAX = 1000
INVALID_KEY_DETAIL = "Project API key invalid. You can find your project API key in PostHog project settings."


def _problem(status: int, error_type: str, code: str, detail: str) -> web.Response:
    return web.json_response({"type": error_type, "code": code, "detail": detail, "attr": None}, status=status)


def _invalid(detail: str) -> web.Response:
    return _problem(400, "validation_error", "invalid_payload", detail)


def _event_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "Every batch item must be an object."
    if not isinstance(event.get("event"), str) or not event["event"]:
        return "Invalid payload: All events must have the event name field 'event'!"
    properties = event.get("properties", {})
    if not isinstance(properties, dict):
        return "Invalid payload: 'properties' must be an object."
    distinct_id = event.get("distinct_id", properties.get("distinct_id"))
    if not isinstance(distinct_id, str | int) or distinct_id == "":
        return "Invalid payload: All events must have the event field 'distinct_id'!"
    if "timestamp" in event:
        try:
            datetime.fromisoformat(str(event["timestamp"]))
        except ValueError:
            return "Invalid payload: 'timestamp' must be ISO 8601."
    return None


@dataclass
class PostHogEmulator:
    """Answers `POST /batch/` like PostHog Cloud, records accepted events and can be told to fail with a status."""

    api_key: str
    personal_api_key: str = "phx_lango_emulated_personal_key"
    project_id: str = "1"
    events: list[dict[str, Any]] = field(default_factory=list)
    batches: int = 0
    forced_status: int | None = None
    # Every distinct id a bulk deletion named, in order.
    deleted: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/batch/", self._batch)
        app.router.add_post("/api/projects/{project_id}/persons/bulk_delete/", self._bulk_delete)
        return app

    async def _bulk_delete(self, request: web.Request) -> web.Response:
        if self.forced_status is not None:
            return _problem(self.forced_status, "server_error", "emulated", "Emulated failure.")
        if request.headers.get("Authorization") != f"Bearer {self.personal_api_key}":
            return _problem(401, "authentication_error", "authentication_failed", PERSONAL_KEY_DETAIL)
        if request.match_info["project_id"] != self.project_id:
            return _problem(404, "invalid_request", "not_found", "Not found.")
        try:
            body = await request.json()
        except ValueError:
            return _invalid("Malformed request data: invalid JSON.")
        distinct_ids = body.get("distinct_ids") if isinstance(body, dict) else None
        if not isinstance(distinct_ids, list) or not distinct_ids or len(distinct_ids) > BULK_DELETE_MAX:
            return _invalid(f"You must provide between 1 and {BULK_DELETE_MAX} distinct_ids or ids.")
        if not all(isinstance(distinct_id, str) for distinct_id in distinct_ids):
            return _invalid("Every distinct_id must be a string.")
        self.deleted.extend(distinct_ids)
        if body.get("delete_events"):
            gone = set(distinct_ids)
            self.events = [event for event in self.events if event.get("distinct_id") not in gone]
        return web.Response(status=202)

    async def _batch(self, request: web.Request) -> web.Response:
        if self.forced_status is not None:
            return _problem(self.forced_status, "server_error", "emulated", "Emulated failure.")
        try:
            body = await request.json()
        except ValueError:
            return _invalid("Malformed request data: invalid JSON.")
        if not isinstance(body, dict):
            return _invalid("Malformed request data: expected an object.")
        if not body.get("api_key"):
            return _problem(
                401,
                "authentication_error",
                "missing_api_key",
                "API key not provided. You can find your project API key in PostHog project settings.",
            )
        if body["api_key"] != self.api_key:
            return _problem(401, "authentication_error", "invalid_api_key", INVALID_KEY_DETAIL)
        batch = body.get("batch")
        if not isinstance(batch, list) or not batch:
            return _invalid("Invalid payload: 'batch' must be a non-empty list of events.")
        for event in batch:
            if problem := _event_problem(event):
                return _invalid(problem)
        self.batches += 1
        self.events.extend(batch)
        return web.json_response({"status": 1})
