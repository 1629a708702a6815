"""What the API key routes answer: a key without its secret, the one answer that carries the secret, and lists."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.api_key import ApiKey, ApiKeyScope


class ApiKeyView(BaseModel):
    id: str
    name: str
    scopes: list[ApiKeyScope]
    agent_id: str
    hint: str = Field(description="The first characters of the current secret")
    created_by: str
    created_at: datetime
    expires_at: datetime
    rotated_at: datetime | None
    previous_valid_until: datetime | None = Field(description="Until then the secret before the last rotation works too")
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyView":
        return cls(id=str(key.id), **key.model_dump(exclude={"id", "revision_id", "secret_hash", "previous_secret_hash"}))


class ApiKeySecret(BaseModel):
    """The only answer that carries the secret: it is not stored and cannot be shown again."""

    key: ApiKeyView
    secret: str = Field(description="Send as X-API-Key or Authorization: Bearer; shown this once")


class ApiKeyList(BaseModel):
    items: list[ApiKeyView]
