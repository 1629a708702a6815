"""The platform's fee on a stay or an order, in integer minor units, by the rule in settings.commission."""

from gateway.settings import CommissionRule

BASIS_POINTS = 10_000


def platform_fee_minor(rule: CommissionRule, price_minor: int, currency: str, units: int = 1) -> int:
    """`percent_bps` of the price rounded half up to a whole minor unit, plus the currency's fixed fee per unit, capped at
    the price: a host never earns less than nothing."""
    percent_part = (price_minor * rule.percent_bps + BASIS_POINTS // 2) // BASIS_POINTS
    return min(price_minor, percent_part + rule.fixed_minor.get(currency, 0) * units)
