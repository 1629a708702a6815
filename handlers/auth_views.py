"""What the account routes answer: views of accounts, sessions and token pairs."""

from datetime import datetime

from pydantic import BaseModel, Field

from documents.user import User


class AccountView(BaseModel):
    id: str
    email: str | None
    phone: str | None = Field(description="E.164")
    email_verified: bool
    phone_verified: bool
    roles: list[str]
    mfa_enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "AccountView":
        return cls(
            id=str(user.id),
            email=user.email,
            phone=user.phone,
            email_verified=user.email_verified_at is not None,
            phone_verified=user.phone_verified_at is not None,
            roles=sorted(user.roles),
            mfa_enabled=user.mfa_enabled,
            created_at=user.created_at,
        )
