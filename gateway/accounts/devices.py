"""Device tokens: how a device that signed in to an account before is recognised when it signs in again.

A successful sign-in answers one; the app keeps it and sends it back with later sign-ins. Failures from a known device
count against that device alone, so a flood of guesses from elsewhere cannot lock the owner's own phone out.
"""

from datetime import timedelta

from documents.user import User
from gateway.security.tokens import TokenError
from gateway.services import Services


def issue_device_token(services: Services, user: User) -> str:
    return services.tokens.issue_device(str(user.id), timedelta(seconds=services.settings.auth.device_token_ttl_s))


def known_device_id(services: Services, user: User | None, device_token: str | None) -> str | None:
    """The id of the device `device_token` names, when it is a valid token of this very account; else None."""
    if user is None or not device_token:
        return None
    try:
        claims = services.tokens.verify_device(device_token)
    except TokenError:
        return None
    return claims.device_id if claims.user_id == str(user.id) else None
