"""What the account flows need, set up once Redis exists: the password hasher and the rate limiter.

The email and SMS senders they use are built with the push sender by gateway.notifications.channels.
"""

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.security.passwords import PasswordHasher
from gateway.security.rate_limits import RateLimiter
from gateway.state import PASSWORDS, RATE_LIMITER, REDIS, SETTINGS


async def accounts_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[PASSWORDS] = PasswordHasher(settings.auth.bcrypt_cost)
    app[RATE_LIMITER] = RateLimiter(app[REDIS], settings.redis, settings.rate_limits)
    yield
