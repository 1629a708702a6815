"""Turns a configured provider name and its settings into an adapter, failing at start-up with the key to fix."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from providers.errors import ProviderMisconfigured

AdapterT = TypeVar("AdapterT")
ConfigT = TypeVar("ConfigT", bound=BaseModel)


@dataclass(frozen=True)
class AdapterResources:
    """Shared clients an adapter may need; the app owns and closes them."""

    redis: Redis | None = None
    http: httpx.AsyncClient | None = None

    def require_redis(self, adapter: str) -> Redis:
        if self.redis is None:
            raise ProviderMisconfigured(f"{adapter} needs a Redis client", vendor=adapter)
        return self.redis

    def require_http(self, adapter: str) -> httpx.AsyncClient:
        if self.http is None:
            raise ProviderMisconfigured(f"{adapter} needs an HTTP client", vendor=adapter)
        return self.http


@dataclass(frozen=True)
class AdapterSpec(Generic[AdapterT]):
    config_model: type[BaseModel]
    build: Callable[[Any, AdapterResources], AdapterT]


def parse_config(model: type[ConfigT], options: Mapping[str, Any] | BaseModel, prefix: str) -> ConfigT:
    """Validate adapter settings; the error names each bad key but never echoes a value (it may be a secret)."""
    if isinstance(options, model):
        return options
    raw = options.model_dump() if isinstance(options, BaseModel) else dict(options)
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{prefix}.{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}" for issue in error.errors()
        )
        # The validation error's own text quotes the rejected input, which may be a secret.
        raise ProviderMisconfigured(f"invalid settings: {problems}", vendor=prefix) from None


def build_adapter(
    capability: str,
    specs: Mapping[str, AdapterSpec[AdapterT]],
    name: str,
    options: Mapping[str, Any] | BaseModel,
    resources: AdapterResources,
) -> AdapterT:
    spec = specs.get(name)
    if spec is None:
        raise ProviderMisconfigured(
            f"unknown {capability} provider {name!r}; choose one of {', '.join(specs)}", vendor=name
        )
    config = parse_config(spec.config_model, options, f"{capability}.{name}")
    return spec.build(config, resources)
