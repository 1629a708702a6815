"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio

from aiohttp import web
from pydantic import BaseModel

from gateway.logs import get_logger
from gateway.problems import ServiceUnavailable
from gateway.routing import ApiRoutes
from gateway.state import READINESS_CHECKS

routes = ApiRoutes(tag="operations")
log = get_logger("lango.health")
READINESS_TIMEOUT_S = 2.0


class NotReady(ServiceUnavailable):
    slug, title = "not-ready", "A dependency is unavailable"


class Liveness(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@routes.get("/healthz", response=Liveness, summary="The process is alive")
async def healthz(request: web.Request) -> Liveness:
    return Liveness(status="ok")


@routes.get("/readyz", response=Readiness, problems=(503,), summary="Every dependency answers: send traffic here")
async def readyz(request: web.Request) -> Readiness:
    checks = request.app[READINESS_CHECKS]
    names = list(checks)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(checks[name](), READINESS_TIMEOUT_S) for name in names), return_exceptions=True
    )
    results = {name: "ok" if outcome is None else _reason(outcome) for name, outcome in zip(names, outcomes)}
    failing = [name for name, result in results.items() if result != "ok"]
    if failing:
        log.warning("not ready", failing=failing)
        raise NotReady(f"not ready: {', '.join(failing)}", checks=results)
    return Readiness(status="ready", checks=results)


def _reason(outcome: BaseException | None) -> str:
    if isinstance(outcome, TimeoutError):
        return "timed out"
    return f"failed: {type(outcome).__name__}"
