"""The push channel's contract: a notification for a user's devices and what came of each device token."""

from typing import Annotated, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from providers.delivery import MessageKind

# FCM refuses these data keys; the whole payload must stay under 4 KB.
_RESERVED_DATA_KEYS = {"from", "notification", "message_type"}
_RESERVED_DATA_PREFIXES = ("google.", "gcm.")
PAYLOAD_LIMIT_BYTES = 4096

DeviceToken = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^\S+$")]


class PushMessage(BaseModel):
    """One notification for one or more devices; `collapse_key` lets a newer one replace an older one on the device."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tokens: tuple[DeviceToken, ...] = Field(min_length=1)
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    data: dict[str, str] = Field(default_factory=dict)
    collapse_key: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    priority: Literal["normal", "high"] = "normal"
    kind: MessageKind

    @field_validator("data")
    @classmethod
    def _no_reserved_keys(cls, data: dict[str, str]) -> dict[str, str]:
        for key in data:
            if not key or key in _RESERVED_DATA_KEYS or key.startswith(_RESERVED_DATA_PREFIXES):
                raise ValueError(f"data key {key!r} is reserved by FCM")
        return data

    @model_validator(mode="after")
    def _fits_one_payload(self) -> Self:
        size = len(self.title.encode()) + len(self.body.encode())
        size += sum(len(key.encode()) + len(value.encode()) for key, value in self.data.items())
        if size > PAYLOAD_LIMIT_BYTES:
            raise ValueError(f"title, body and data take {size} bytes; FCM accepts {PAYLOAD_LIMIT_BYTES}")
        return self


class TokenOutcome(BaseModel):
    """What the vendor said about one device token; `error` is the vendor's code (UNREGISTERED, UNAVAILABLE…)."""

    model_config = ConfigDict(frozen=True)

    token: str
    message_id: str | None = None
    error: str | None = None
    remove_token: bool = False
    retryable: bool = False

    @property
    def delivered(self) -> bool:
        return self.error is None


class PushResult(BaseModel):
    """Per-token outcomes of one push, with the tokens to forget and the ones worth another try."""

    model_config = ConfigDict(frozen=True)

    provider: str
    outcomes: tuple[TokenOutcome, ...]

    @property
    def delivered_tokens(self) -> list[str]:
        return [outcome.token for outcome in self.outcomes if outcome.delivered]

    @property
    def tokens_to_remove(self) -> list[str]:
        return [outcome.token for outcome in self.outcomes if outcome.remove_token]

    @property
    def tokens_to_retry(self) -> list[str]:
        return [outcome.token for outcome in self.outcomes if outcome.retryable]


class PushSender(Protocol):
    """Pushes one notification to its devices; raises a ProviderError only when nothing could be attempted."""

    name: str

    async def send(self, message: PushMessage) -> PushResult: ...
