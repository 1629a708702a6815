"""The platform's fee: basis points rounded half up to a minor unit, plus a fixed fee per currency and unit, never more
than the price; a bad commission setting stops start-up naming its key."""

import pytest

from gateway.ledger.commission import platform_fee_minor
from gateway.settings import CommissionRule, ConfigError, load_settings
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("percent_bps", "price_minor", "fee_minor"),
    [
        (1000, 1_425_000, 142_500),
        # 2.5% of 1 010 is 25.25: down; of 1 030 is 25.75: up; of 1 020 is exactly 25.5: half rounds up.
        (250, 1_010, 25),
        (250, 1_030, 26),
        (250, 1_020, 26),
        (0, 5_000, 0),
        (10_000, 5_000, 5_000),
    ],
)
def test_the_percentage_rounds_half_up_to_a_whole_minor_unit(percent_bps: int, price_minor: int, fee_minor: int) -> None:
    assert platform_fee_minor(CommissionRule(percent_bps=percent_bps), price_minor, "KES") == fee_minor


def test_the_fixed_fee_is_per_currency_and_unit_and_never_more_than_the_price() -> None:
    rule = CommissionRule(percent_bps=500, fixed_minor={"KES": 2_000})
    # Three tickets at 150 000: 5% of 450 000 plus 20 KES each.
    assert platform_fee_minor(rule, 450_000, "KES", units=3) == 22_500 + 6_000
    assert platform_fee_minor(rule, 450_000, "USD", units=3) == 22_500
    assert platform_fee_minor(rule, 1_000, "KES", units=1) == 1_000
    assert platform_fee_minor(rule, 0, "KES", units=2) == 0


@pytest.mark.parametrize(
    ("section", "value"),
    [("stays", {"percent_bps": 10_001}), ("tickets", {"percent_bps": -1}), ("stays", {"fixed_minor": {"kes": 10}}),
     ("tickets", {"fixed_minor": {"KES": -5}})],
)  # fmt: skip
def test_a_bad_commission_stops_start_up_naming_the_key(section: str, value: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=f"commission.{section}"):
        load_settings(REPO / "config.toml", commission={section: value})
