"""Settings: where each comes from (file, environment, flags), what the file may not hold, config.toml listing all."""

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.settings import ConfigError, Settings, load_settings
from tests.conftest import REPO


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[server]\nhost = "0.0.0.0"\nport = 7000\n\n[logging]\nlevel = "WARNING"\n')
    return path


def test_the_environment_overrides_the_file_key_by_key(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGO_SERVER__PORT", "8081")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    settings = load_settings(config_file)
    assert (settings.server.host, settings.server.port, settings.logging.level) == ("0.0.0.0", 8081, "WARNING")
    assert settings.redis.url is not None and settings.redis.url.get_secret_value() == "redis://cache.internal:6379/0"


def test_command_line_flags_override_the_environment(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGO_SERVER__PORT", "8081")
    settings = load_settings(config_file, server={"port": 9000})
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 9000)


def test_an_unknown_key_in_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[server]\nprot = 7000\n")
    with pytest.raises(ConfigError, match=r"server\.prot"):
        load_settings(path)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("auth", "signing_keys", '{"keys": []}'),
        ("auth", "totp_encryption_key", "A" * 43),
        ("tickets", "key_encryption_key", "A" * 43),
        ("auth", "totp_previous_encryption_keys", "A" * 43),
        ("tickets", "previous_key_encryption_keys", "A" * 43),
        ("storage.local", "signing_secret", "s" * 40),
        ("redis", "url", "redis://cache.internal:6379/0"),
        # Vendors' sections are their adapters' own settings models, and are walked all the same.
        ("payments.mpesa", "consumer_secret", "daraja-consumer-secret"),
        ("payments.stripe", "api_key", "sk_live_x"),
        ("email.smtp", "password", "relay-password"),
        ("sms.twilio", "auth_token", "twilio-token"),
        ("push.fcm", "service_account_json", "{}"),
        ("storage.s3", "secret_access_key", "aws-secret"),
        ("maps.google", "api_key", "AIza-key"),
        ("analytics.posthog", "api_key", "phc_key"),
    ],
)
def test_a_secret_written_into_the_file_is_refused_and_its_variable_named(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[{section}]\n{key} = '{value}'\n")
    variable = f"LANGO_{section.upper().replace('.', '__')}__{key.upper()}"
    with pytest.raises(ConfigError, match=f"secrets are read only from the environment \\({variable}\\)"):
        load_settings(path)


def test_a_bad_vendor_setting_is_named_with_its_variable_and_never_echoes_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGO_PAYMENTS__MPESA__CONSUMER_SECRET", "top-secret-consumer")
    monkeypatch.setenv("LANGO_PAYMENTS__MPESA__CALLBACK_TOKEN", "tiny-secret")
    with pytest.raises(ConfigError) as raised:
        load_settings(REPO / "config.toml", payments={"mpesa": {"shortcode": "17"}})
    message = str(raised.value)
    assert "payments.mpesa.shortcode: " in message and "LANGO_PAYMENTS__MPESA__SHORTCODE" in message
    assert "payments.mpesa.callback_token: " in message and "LANGO_PAYMENTS__MPESA__CALLBACK_TOKEN" in message
    assert "top-secret-consumer" not in message and "tiny-secret" not in message


@pytest.mark.parametrize(
    ("section", "value", "choices"),
    [
        ("payments", {"methods": ["cash"]}, r"payments\.methods\.0: Input should be 'mpesa', 'stripe' or 'paypal'"),
        ("email", {"provider": "pigeon"}, r"email\.provider: Input should be 'outbox', 'smtp', 'resend' or 'sendgrid'"),
        ("sms", {"provider": "pigeon"}, r"sms\.provider: Input should be 'outbox', 'africastalking' or 'twilio'"),
        ("push", {"provider": "pigeon"}, r"push\.provider: Input should be 'outbox' or 'fcm'"),
        ("storage", {"provider": "ftp"}, r"storage\.provider: Input should be 'local' or 's3'"),
        ("maps", {"provider": "osm"}, r"maps\.provider: Input should be 'google' or 'none'"),
        ("analytics", {"provider": "mixpanel"}, r"analytics\.provider: Input should be 'posthog' or 'none'"),
    ],
)
def test_an_unknown_vendor_is_refused_naming_the_choices(section: str, value: dict[str, object], choices: str) -> None:
    with pytest.raises(ConfigError, match=choices):
        load_settings(REPO / "config.toml", **{section: value})


def _documented_keys(text: str) -> set[str]:
    """Every `key =` line of config.toml, set or commented out (secrets), as `section.key`."""
    keys, section = set(), ""
    for line in text.splitlines():
        if header := re.fullmatch(r"\[([a-z0-9_.]+)\]", line.strip()):
            section = header.group(1) + "."
        elif key := re.match(r"^#? ?([a-z0-9_]+) =", line):
            keys.add(section + key.group(1))
    return keys


def _setting_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            keys |= _setting_keys(field.annotation, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def test_config_toml_documents_every_setting_and_nothing_else() -> None:
    documented = _documented_keys((REPO / "config.toml").read_text())
    settings = _setting_keys(Settings)
    assert not settings - documented, f"settings missing from config.toml: {sorted(settings - documented)}"
    assert not documented - settings, f"config.toml keys that are no setting: {sorted(documented - settings)}"


def test_a_redis_cluster_is_refused_without_a_single_redis_for_the_job_queue() -> None:
    with pytest.raises(ConfigError, match=r"redis\.cluster needs .*jobs\.redis_url"):
        load_settings(REPO / "config.toml", redis={"url": "redis://10.0.0.1:7000", "cluster": True})

    on_cluster = load_settings(
        REPO / "config.toml",
        redis={"url": "redis://10.0.0.1:7000", "cluster": True},
        jobs={"redis_url": "redis://10.0.0.2:6379"},
    )
    assert on_cluster.redis.cluster and on_cluster.jobs.redis_url is not None



def _readme_security() -> str:
    readme = (REPO / "README.md").read_text()
    return readme.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]


def _default(path: str) -> object:
    section, key = path.split(".")
    return getattr(Settings.model_fields[section].default, key)


def test_readme_security_lists_every_rate_limit_with_its_default() -> None:
    shipped = load_settings(REPO / "config.toml").rate_limits
    listed = {}
    for row in _readme_security().splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if not row.lstrip().startswith("|") or len(cells) != 3:
            continue
        names = re.findall(r"`(\w+)`", cells[2])
        if not names:
            continue  # the header
        # One row may name several settings, their defaults in the same order: "5/hour, 10/hour, 30/hour".
        defaults = cells[1].split(", ") if len(names) > 1 else [cells[1]]
        listed.update(zip(names, defaults, strict=True))
    for name in type(shipped).model_fields:
        assert name in listed, f"rate_limits.{name} is missing from README's Security section"
        assert listed[name] == getattr(shipped, name) == _default(f"rate_limits.{name}"), name


# Limits README's Security section states in its prose, each as "`setting` (default)".
LIMITS_IN_PROSE = {
    "bookings.max_holds_per_guest": ("(3)", 3),
    "bookings.max_holds_per_guest_per_listing": ("(1)", 1),
    "tickets.max_holds_per_buyer_per_event": ("(2)", 2),
    "realtime.max_sockets_per_user": ("(10)", 10),
    "realtime.max_sockets_per_address": ("(500)", 500),
    "realtime.connects_per_address": ("(`300/minute`)", "300/minute"),
    "realtime.handshake_timeout_s": ("(10 s)", 10),
    "realtime.max_request_chars": ("(16,384)", 16_384),
    "realtime.max_message_bytes": ("(256 KiB)", 256 * 1024),
    "auth.recent_sign_in_s": ("(300 s)", 300),
    "auth.otp_max_attempts": ("(5)", 5),
    "auth.otp_resend_cooldown_s": ("(60 s)", 60),
    "server.max_body_bytes": ("(1 MiB)", 1024 * 1024),
    "server.max_json_depth": ("(32)", 32),
    "storage.upload_url_ttl_s": ("(900 s)", 900),
}


@pytest.mark.parametrize(("path", "written", "value"), [(path, *stated) for path, stated in LIMITS_IN_PROSE.items()])
def test_readme_security_states_each_cap_with_its_default(path: str, written: str, value: object) -> None:
    section, key = path.split(".")
    shipped = getattr(getattr(load_settings(REPO / "config.toml"), section), key)
    assert f"`{path}` {written}" in " ".join(_readme_security().split())
    assert shipped == _default(path) == value
