"""How often M-Pesa STK pushes may be sent: each one prompts a phone, so without limits anyone could have any
number's phone prompted again and again. Counted per payer phone, per paying user, per client address and over the
whole deployment (many accounts and addresses prompting many phones would put the shortcode at risk with Safaricom)."""

from documents.payment import Payment
from gateway.problems import TooManyRequests
from gateway.security.rate_limits import RateLimiter

TOO_MANY_PROMPTS = "too many M-Pesa prompts were asked for; try again later"


async def count_stk_push(
    limiter: RateLimiter, payment: Payment, *, phone: str, user_id: str, client_address: str | None
) -> None:
    """Count the push `payment` is about to send (once per payment: its row is stored, so concurrent retries under
    one Idempotency-Key count once); 429 when the phone, the user, the address or the deployment had too many."""
    try:
        await limiter.hit("stk_pushes_per_phone", phone, refusal=TOO_MANY_PROMPTS)
        await limiter.hit("stk_pushes_per_user", user_id, refusal=TOO_MANY_PROMPTS)
        await limiter.hit("stk_pushes_per_address", client_address or "unknown", refusal=TOO_MANY_PROMPTS)
        await limiter.hit("stk_pushes_overall", "all", refusal=TOO_MANY_PROMPTS)
    except TooManyRequests:
        # Nothing was pushed: the row goes, so the booking or order stays payable and the same key may try again.
        await payment.delete()
        raise
