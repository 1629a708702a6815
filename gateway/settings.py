"""Every setting of the gateway: defaults in config.toml, overridden by environment variables."""

import os
import re
import tomllib
import typing
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse as parse_limit
from limits import parse_many
from pydantic import AfterValidator, BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.crypto.encoding import from_b64url
from gateway.crypto.signing_keys import KeyRingError, parse_key_ring
from providers.analytics import AnalyticsVendor, PostHogSettings
from providers.email import EmailSettings
from providers.maps import GoogleMapsSettings, MapsVendor
from providers.payments import MpesaSettings, PaypalSettings, StripeSettings
from providers.push import PushSettings
from providers.settings import Network, Section
from providers.sms import SmsSettings
from providers.storage import LocalStorageSettings, S3StorageSettings

ENV_PREFIX = "LANGO_"
ENV_NESTING = "__"
# Conventional variables that deployment platforms already set, honoured beside the LANGO_ ones.
WELL_KNOWN_ENV = {"MONGODB_URL": ("mongodb", "url"), "REDIS_URL": ("redis", "url")}


class ConfigError(Exception):
    """A setting is missing or invalid; the message names every offending key."""


_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")


def _is_32_bytes(key: SecretStr) -> SecretStr:
    try:
        decoded = from_b64url(key.get_secret_value())
    except ValueError:
        decoded = b""
    if len(decoded) != 32:
        raise ValueError("must be 32 bytes in base64url")
    return key


# An AES-256-GCM key sealing secrets at rest: 32 random bytes in base64url.
SealingKey = Annotated[SecretStr, AfterValidator(_is_32_bytes)]


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = Field(1_048_576, ge=1024)
    max_json_depth: int = Field(32, ge=2, le=256)
    gzip_min_bytes: int = Field(1024, ge=0)
    shutdown_timeout_s: float = Field(10.0, gt=0)
    listen_backlog: int = Field(2048, ge=1, le=65535)
    # Gateway processes sharing the port (SO_REUSEPORT), under a supervisor; `lango serve --workers N`.
    workers: int = Field(1, ge=1, le=64)
    cors_origins: list[str] = []
    behind_tls: bool = False
    # Reverse proxies whose X-Forwarded-For is believed; a request from anywhere else is its own client.
    trusted_proxies: list[Network] = []
    # The front-end folder the web apps (the door scanner at /scan) are served from.
    web_root: str = "web"

    @model_validator(mode="after")
    def _origins_are_exact(self) -> "ServerSettings":
        # An allowlist, never a wildcard: each entry is a scheme://host[:port] origin compared verbatim.
        malformed = [origin for origin in self.cors_origins if not _ORIGIN.match(origin)]
        if malformed:
            raise ValueError(f"cors_origins: {', '.join(malformed)} is not an origin like https://app.example.com")
        return self


class MongoSettings(Section):
    url: SecretStr | None = None
    database: str = Field("lango", pattern=r"^[A-Za-z0-9_-]{1,63}$")
    max_pool_size: int = Field(100, ge=1)
    min_pool_size: int = Field(0, ge=0)
    connect_timeout_ms: int = Field(5000, ge=100)
    server_selection_timeout_ms: int = Field(5000, ge=100)
    socket_timeout_ms: int = Field(10000, ge=100)
    # Below the server's own idle limit (SecantusDB drops a connection idle for 300 s), so the pool never hands a
    # request a connection the server has closed.
    max_idle_time_ms: int = Field(240_000, ge=1000)


class RedisSettings(Section):
    url: SecretStr | None = None
    namespace: str = Field("lango", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    max_connections: int = Field(200, ge=1)
    socket_timeout_s: float = Field(5.0, gt=0)
    # `url` names one node of a Redis Cluster (7.0 or later): see gateway/redis_client.py.
    cluster: bool = False
    cluster_partitions: int = Field(128, ge=1, le=16384)


class OutboundHttpSettings(Section):
    timeout_s: float = Field(10.0, gt=0)
    connect_timeout_s: float = Field(5.0, gt=0)
    max_connections: int = Field(100, ge=1)
    max_keepalive_connections: int = Field(20, ge=0)


class EmbeddedSettings(Section):
    data_dir: Path = Path("var")
    mongodb_port: int = Field(27117, ge=1, le=65535)
    redis_port: int = Field(6479, ge=1, le=65535)
    start_timeout_s: float = Field(60.0, gt=0)


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = "json"


class JobsSettings(Section):
    queue: str = Field("default", pattern=r"^[A-Za-z0-9_-]{1,40}$")
    concurrency: int = Field(10, ge=1)
    in_process: bool | None = None
    # The job queue's own single Redis; unset: redis.url. Required with redis.cluster (gateway/jobs.py says why).
    redis_url: SecretStr | None = None


class RealtimeSettings(Section):
    history_max_events: int = Field(1000, ge=10, le=100_000)
    history_max_age_s: int = Field(86_400, ge=60)
    node_heartbeat_s: float = Field(2.0, gt=0)
    node_ttl_s: float = Field(6.0, gt=0)
    presence_refresh_s: float = Field(600.0, gt=0)
    selftest_interval_s: float = Field(1.0, gt=0)
    selftest_max_silence_s: float = Field(3.0, gt=0)
    resubscribe_backoff_max_s: float = Field(2.0, gt=0)
    push_debounce_s: float = Field(3.0, ge=0)
    ping_interval_s: float = Field(25.0, gt=0)
    ping_timeout_s: float = Field(20.0, gt=0)
    websocket_compression: bool = False
    direct_websocket_writes: bool = True
    gc_freeze: bool = True
    gc_settle_interval_s: float = Field(1.0, gt=0)
    transports: list[Literal["websocket", "polling"]] = Field(["websocket"], min_length=1)
    max_sockets_per_user: int = Field(10, ge=1)
    max_sockets_per_address: int = Field(500, ge=1)
    connects_per_address: str = "300/minute"
    handshake_timeout_s: float = Field(10.0, gt=0)
    max_request_chars: int = Field(16_384, ge=1024)
    max_message_bytes: int = Field(262_144, ge=4096)
    # Bytes written to a socket and not yet taken by its phone; past this the phone is cut off (it reconnects and
    # recovers what it missed from the rooms' history) rather than held in the gateway's memory.
    max_unsent_bytes: int = Field(1_048_576, ge=65_536)

    @model_validator(mode="after")
    def _node_outlives_heartbeat(self) -> "RealtimeSettings":
        if self.node_ttl_s <= 2 * self.node_heartbeat_s:
            raise ValueError("node_ttl_s must exceed twice node_heartbeat_s, or a live node could look dead")
        return self

    @model_validator(mode="after")
    def _limits_are_sound(self) -> "RealtimeSettings":
        try:
            parse_limit(self.connects_per_address)
        except ValueError:
            raise ValueError("connects_per_address: not a rate like '300/minute'") from None
        if self.max_message_bytes <= self.max_request_chars:
            raise ValueError("max_message_bytes must exceed max_request_chars, or an over-size request drops its socket")
        return self


class AuthSettings(Section):
    issuer: str = Field("lango", min_length=1)
    access_token_ttl_s: int = Field(900, ge=60, le=86_400)
    refresh_token_ttl_s: int = Field(2_592_000, ge=3600)
    challenge_token_ttl_s: int = Field(300, ge=30, le=3600)
    # JSON {"keys": [{"kid", "private_key"}...], "retired": [kid...]}; the first key signs.
    signing_keys: SecretStr | None = None
    # Seals each account's TOTP secret at rest; the previous keys only open, until `lango migrate` re-sealed all.
    totp_encryption_key: SealingKey | None = None
    totp_previous_encryption_keys: list[SealingKey] = []
    bcrypt_cost: int = Field(12, ge=4, le=16)
    password_min_length: int = Field(10, ge=8, le=64)
    otp_ttl_s: int = Field(600, ge=60, le=3600)
    otp_max_attempts: int = Field(5, ge=1, le=20)
    otp_resend_cooldown_s: int = Field(60, ge=0, le=3600)
    mfa_required_roles: list[Literal["guest", "agent", "admin", "scanner"]] = ["agent", "admin"]
    device_token_ttl_s: int = Field(15_552_000, ge=86_400, le=63_072_000)
    recent_sign_in_s: int = Field(300, ge=30, le=3600)


class RateLimitSettings(Section):
    """Moving windows in the `limits` notation, e.g. "5/15 minutes"; several join with ";" ("5/15 minutes; 20/day")."""

    login_failures_per_account: str = "5/15 minutes; 20/day"
    login_failures_per_device: str = "10/15 minutes"
    login_attempts_per_address: str = "100/15 minutes"
    otp_sends_per_destination: str = "5/hour"
    otp_checks_per_account: str = "10/15 minutes"
    data_exports_per_account: str = "3/day"
    reset_code_checks_per_account: str = "10/15 minutes"
    verification_code_checks_per_account: str = "10/15 minutes"
    signups_per_address: str = "20/hour"
    signups_overall: str = "1000/hour"
    sms_per_address: str = "20/hour"
    sms_overall: str = "1000/hour"
    stk_pushes_per_phone: str = "5/hour"
    stk_pushes_per_user: str = "10/hour"
    stk_pushes_per_address: str = "30/hour"
    stk_pushes_overall: str = "10000/hour"
    holds_per_user: str = "20/hour"
    lapsed_holds_per_user: str = "5/day"
    maps_requests_per_user: str = "60/minute"
    api_key_requests: str = "600/minute"
    payout_destination_requests_per_user: str = "3/hour; 5/day"
    console_visits_per_address: str = "60/15 minutes"
    messages_per_user: str = "20/minute; 500/day"
    enquiries_per_user: str = "10/day"
    typing_signals_per_user: str = "30/minute"
    conversation_reports_per_user: str = "10/day"
    profile_changes_per_user: str = "30/hour"
    contact_changes_per_user: str = "5/hour; 10/day"
    profile_reads_per_user: str = "120/minute"
    host_applications_per_user: str = "5/day"
    reviews_per_user: str = "30/hour"
    review_reports_per_user: str = "20/day"
    reconciliation_runs_per_admin: str = "10/hour"

    @model_validator(mode="after")
    def _parseable(self) -> "RateLimitSettings":
        for name in type(self).model_fields:
            try:
                windows = parse_many(getattr(self, name))
            except ValueError:
                windows = []
            if not windows:
                raise ValueError(f"{name}: not a rate limit like '5/15 minutes' or '5/15 minutes; 20/day'")
        return self


class NotificationSettings(Section):
    default_locale: Literal["en", "sw"] = "en"
    default_time_zone: str = "Africa/Nairobi"
    booking_reminder_lead_h: int = Field(24, ge=1, le=168)
    event_reminder_lead_h: int = Field(24, ge=1, le=168)
    check_in_time: str = Field("14:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    broadcast_batch_size: int = Field(500, ge=1, le=5000)
    public_app_url: str = "https://lango.africa"

    @model_validator(mode="after")
    def _known_time_zone(self) -> "NotificationSettings":
        try:
            ZoneInfo(self.default_time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"default_time_zone: {self.default_time_zone!r} is not an IANA time zone") from None
        return self


class MetricsSettings(Section):
    enabled: bool = True
    # Scrapers must send `Authorization: Bearer <token>` when set.
    token: SecretStr | None = None
    probe_interval_s: float = Field(15.0, gt=0)
    # `lango worker` serves /metrics alone on this port (the gateway uses server.port).
    worker_port: int = Field(9108, ge=1, le=65535)


class SentrySettings(Section):
    dsn: SecretStr | None = None
    traces_sample_rate: float = Field(0.0, ge=0, le=1)


class BackupSettings(Section):
    prefix: str = Field("backups", pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}$")


class ApiKeySettings(Section):
    rotation_grace_s: int = Field(86_400, ge=0, le=30 * 86_400)
    max_ttl_days: int = Field(365, ge=1, le=3_650)


class BookingSettings(Section):
    hold_ttl_s: int = Field(900, ge=60, le=86_400)
    max_nights: int = Field(90, ge=1, le=365)
    max_advance_days: int = Field(540, ge=1, le=1_095)
    search_cache_ttl_s: int = Field(60, ge=0, le=3_600)
    search_page_size: int = Field(20, ge=1, le=100)
    search_max_radius_m: int = Field(100_000, ge=100, le=1_000_000)
    max_holds_per_guest: int = Field(3, ge=1, le=50)
    max_holds_per_guest_per_listing: int = Field(1, ge=1, le=10)


class ReviewSettings(Section):
    # Days after check-out during which guest and host may review each other; both are public when it closes.
    window_days: int = Field(14, ge=1, le=90)
class CalendarSettings(Section):
    """iCal calendar sync: each listing's exported feed, and the feeds hosts import from other sites."""

    max_imports_per_listing: int = Field(5, ge=1, le=50)
    # A feed is fetched again this long after its last attempt; the periodic job looks every 5 minutes.
    sync_interval_s: int = Field(1800, ge=300, le=86_400)
    # Feeds fetched per run of the periodic job, and at once.
    sync_batch: int = Field(200, ge=1, le=10_000)
    sync_concurrency: int = Field(4, ge=1, le=64)
    # One fetch, redirects included, gives up after this long; a body larger than max_feed_bytes is refused.
    fetch_timeout_s: float = Field(20.0, gt=0, le=120)
    max_feed_bytes: int = Field(2_097_152, ge=1024, le=67_108_864)
    max_redirects: int = Field(3, ge=0, le=10)
    max_events: int = Field(5_000, ge=1, le=100_000)
    # Feeds on private, loopback and link-local addresses are refused; only a test deployment may allow them.
    allow_private_addresses: bool = False


class StorageSettings(Section):
    provider: Literal["local", "s3"] = "local"
    local: LocalStorageSettings = LocalStorageSettings()
    s3: S3StorageSettings = S3StorageSettings()
    max_upload_bytes: int = Field(15 * 1_048_576, ge=1024, le=1_073_741_824)
    max_server_upload_bytes: int = Field(1_048_576, ge=1024, le=16 * 1_048_576)
    upload_url_ttl_s: int = Field(900, ge=60, le=86_400)
    download_url_ttl_s: int = Field(3600, ge=60, le=604_800)

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> "StorageSettings":
        if self.provider == "s3" and not self.s3.bucket:
            raise ValueError("s3.bucket is required when provider is s3")
        if self.max_server_upload_bytes > self.max_upload_bytes:
            raise ValueError("max_server_upload_bytes must not exceed max_upload_bytes")
        return self


class MapsSettings(Section):
    provider: MapsVendor = "google"
    google: GoogleMapsSettings = GoogleMapsSettings()
    cache_ttl_s: int = Field(86_400, ge=0, le=30 * 86_400)


class AnalyticsSettings(Section):
    provider: AnalyticsVendor = "none"
    posthog: PostHogSettings = PostHogSettings()
    flush_batches: int = Field(10, ge=1, le=1000)
    queue_max_events: int = Field(100_000, ge=100, le=10_000_000)

    @model_validator(mode="after")
    def _posthog_needs_a_key(self) -> "AnalyticsSettings":
        if self.provider == "posthog" and self.posthog.api_key is None:
            raise ValueError("posthog.api_key is required when provider is posthog (LANGO_ANALYTICS__POSTHOG__API_KEY)")
        return self


class TicketSettings(Section):
    hold_ttl_s: int = Field(600, ge=60, le=86_400)
    max_per_order: int = Field(20, ge=1, le=100)
    max_holds_per_buyer_per_event: int = Field(2, ge=1, le=20)
    entry_opens_before_start_s: int = Field(14_400, ge=0, le=604_800)
    # Seals each event's Ed25519 private key at rest; the previous keys only open, until `lango migrate` re-sealed all.
    key_encryption_key: SealingKey | None = None
    previous_key_encryption_keys: list[SealingKey] = []
    scan_clock_skew_s: int = Field(300, ge=0, le=3_600)
    max_batch_scans: int = Field(500, ge=1, le=5_000)
    scan_context_ttl_s: float = Field(2.0, ge=0, le=60)
    stats_push_interval_s: float = Field(0.2, ge=0, le=10)


PaymentMethod = Literal["mpesa", "stripe", "paypal"]


class PaymentSettings(Section):
    methods: list[PaymentMethod] = ["mpesa", "stripe", "paypal"]
    mpesa: MpesaSettings = MpesaSettings()
    stripe: StripeSettings = StripeSettings()
    paypal: PaypalSettings = PaypalSettings()
    reconcile_interval_s: int = Field(60, ge=60, le=3600)
    reconcile_after_s: int = Field(120, ge=30, le=86_400)
    reconcile_batch: int = Field(200, ge=1, le=5000)
    # An M-Pesa refund (B2C) or Paybill reversal this long without its Result is asked about (Transaction Status).
    initiator_status_after_s: int = Field(300, ge=30, le=86_400)
    sandbox_callback_delay_s: float = Field(3.0, ge=0, le=600)


class CommissionRule(Section):
    """The platform's fee on a sale: basis points of the price, plus a fixed amount per currency (per booking for
    stays, per ticket for tickets); see docs/ledger.md for the rounding."""

    percent_bps: int = Field(0, ge=0, le=10_000)
    fixed_minor: dict[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], Annotated[int, Field(ge=0)]] = {}


class CommissionSettings(Section):
    stays: CommissionRule = CommissionRule(percent_bps=1000)
    tickets: CommissionRule = CommissionRule(percent_bps=500)


class PayoutSettings(Section):
    # Earnings are paid out this long after check-in (stays) or the event's end (tickets).
    holdback_s: int = Field(86_400, ge=0, le=90 * 86_400)
    # Less than this is kept for the next payout (B2C pays at least 10 KES).
    min_amount_minor: int = Field(10_000, ge=1_000, le=25_000_000)
    # A payout phone confirmed less than this long ago is not paid yet: the owner hears of the change first.
    new_destination_hold_s: int = Field(86_400, ge=0, le=30 * 86_400)
    # A payout Daraja did not acknowledge is sent again (same OriginatorConversationID) after this long.
    resend_after_s: int = Field(120, ge=30, le=86_400)
    # A payout sent or timed out this long without a Result is asked about with a transaction status query.
    status_query_after_s: int = Field(300, ge=30, le=86_400)
    # A payout M-Pesa still does not know this long after it timed out is reported (an error in the log, again each
    # such period) for the finance team; its amount stays reserved: it is never failed without M-Pesa saying so.
    report_unknown_after_s: int = Field(86_400, ge=600, le=30 * 86_400)
    batch: int = Field(100, ge=1, le=5_000)


class RetentionSettings(Section):
    """How long each kind of personal data is kept once it has served its purpose, in days (docs/privacy.md)."""

    one_time_codes_d: int = Field(1, ge=1, le=30)
    sessions_d: int = Field(30, ge=1, le=400)
    audit_log_d: int = Field(365, ge=30, le=3650)
    notifications_d: int = Field(180, ge=7, le=3650)
    scan_records_d: int = Field(90, ge=1, le=3650)
    vendor_payloads_d: int = Field(90, ge=30, le=3650)
    # After a conversation's last message (or report): disputes, chargebacks and fraud reports come within two years.
    conversations_d: int = Field(730, ge=30, le=3650)
    # After a review report was made, once an admin resolved it.
    review_reports_d: int = Field(365, ge=30, le=3650)
    batch: int = Field(1_000, ge=1, le=100_000)


class PrivacySettings(Section):
    # An account asked to be deleted stays this long, signed out, before it is erased; signing in cancels.
    deletion_grace_d: int = Field(14, ge=0, le=90)
    # An export's archive can be downloaded this long, through links that live download_link_ttl_s each.
    export_kept_h: int = Field(72, ge=1, le=720)
    download_link_ttl_s: int = Field(900, ge=60, le=86_400)
    # Whether a user who never chose is counted in product analytics.
    analytics_default_on: bool = True
    # The version of the marketing opt-in text the apps show; a consent records the one the person saw.
    marketing_wording_version: str = Field("2026-12", min_length=1, max_length=40)
    retention: RetentionSettings = RetentionSettings()
class ReconciliationSettings(Section):
    # The daily job reconciles the day before from this hour (UTC) on, hourly until each vendor's report completes:
    # PayPal lists a transaction up to three hours late, and Daraja's Pull Transactions keeps only 48 hours.
    run_after_hour_utc: int = Field(3, ge=0, le=23)
    # A run holds a day's report this long; a run that died lets the next one in after it.
    lease_s: int = Field(900, ge=60, le=86_400)


class Settings(BaseSettings):
    """The whole configuration; `load_settings` is the only way the gateway builds one."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTING, extra="forbid", frozen=True
    )

    environment: Literal["development", "test", "production"] = "development"
    sandbox: bool = True
    server: ServerSettings = ServerSettings()
    mongodb: MongoSettings = MongoSettings()
    redis: RedisSettings = RedisSettings()
    http: OutboundHttpSettings = OutboundHttpSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    logging: LoggingSettings = LoggingSettings()
    jobs: JobsSettings = JobsSettings()
    metrics: MetricsSettings = MetricsSettings()
    sentry: SentrySettings = SentrySettings()
    backup: BackupSettings = BackupSettings()
    realtime: RealtimeSettings = RealtimeSettings()
    auth: AuthSettings = AuthSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    api_keys: ApiKeySettings = ApiKeySettings()
    email: EmailSettings = EmailSettings()
    sms: SmsSettings = SmsSettings()
    push: PushSettings = PushSettings()
    notifications: NotificationSettings = NotificationSettings()
    bookings: BookingSettings = BookingSettings()
    calendar: CalendarSettings = CalendarSettings()
    payouts: PayoutSettings = PayoutSettings()
    storage: StorageSettings = StorageSettings()
    maps: MapsSettings = MapsSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    payments: PaymentSettings = PaymentSettings()
    tickets: TicketSettings = TicketSettings()
    commission: CommissionSettings = CommissionSettings()
    reviews: ReviewSettings = ReviewSettings()
    privacy: PrivacySettings = PrivacySettings()
    reconciliation: ReconciliationSettings = ReconciliationSettings()

    @model_validator(mode="after")
    def _production_needs_real_servers(self) -> "Settings":
        if self.environment == "production":
            missing = [key for key, value in (("mongodb.url", self.mongodb.url), ("redis.url", self.redis.url)) if not value]
            if missing:
                raise ValueError(f"production needs {', '.join(missing)} (MONGODB_URL / REDIS_URL)")
            if self.sandbox:
                raise ValueError("sandbox must be false in production")
            if self.auth.signing_keys is None:
                raise ValueError("production needs auth.signing_keys (LANGO_AUTH__SIGNING_KEYS); see `lango keys new`")
            if self.storage.provider == "local" and self.storage.local.signing_secret is None:
                raise ValueError("production needs storage.local.signing_secret (LANGO_STORAGE__LOCAL__SIGNING_SECRET)")
            if self.auth.totp_encryption_key is None:
                raise ValueError("production needs auth.totp_encryption_key (LANGO_AUTH__TOTP_ENCRYPTION_KEY)")
            if self.tickets.key_encryption_key is None:
                raise ValueError("production needs tickets.key_encryption_key (LANGO_TICKETS__KEY_ENCRYPTION_KEY)")
            posthog = self.analytics.posthog
            if self.analytics.provider == "posthog" and (posthog.personal_api_key is None or posthog.project_id is None):
                raise ValueError("production with PostHog needs analytics.posthog.personal_api_key and project_id: erasing "
                                 "an account deletes the person there (LANGO_ANALYTICS__POSTHOG__PERSONAL_API_KEY)")  # fmt: skip
        if self.redis.cluster and (self.redis.url is None or self.jobs.redis_url is None):
            raise ValueError("redis.cluster needs redis.url (a node of the cluster) and jobs.redis_url (a single Redis)")
        if self.calendar.allow_private_addresses and self.environment != "test":
            raise ValueError("calendar.allow_private_addresses is for tests only: feeds could reach internal services")
        if self.auth.signing_keys is not None:
            try:
                parse_key_ring(self.auth.signing_keys.get_secret_value())
            except KeyRingError as error:
                raise ValueError(f"auth.signing_keys: {error}") from None
        return self

    @property
    def embedded_mongodb(self) -> bool:
        return self.mongodb.url is None

    @property
    def embedded_redis(self) -> bool:
        return self.redis.url is None

    @property
    def runs_jobs_in_process(self) -> bool:
        if self.jobs.in_process is None:
            return self.embedded_mongodb or self.embedded_redis
        return self.jobs.in_process

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest first: explicit overrides (command-line flags), the environment, then the settings file.
        return init_settings, env_settings, _WellKnownEnvSource(settings_cls), _FileSource(settings_cls)


_FILE_VALUES: ContextVar[dict[str, Any]] = ContextVar("settings_file_values", default={})


class _FileSource(PydanticBaseSettingsSource):
    """The values read from config.toml by `load_settings`."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return _FILE_VALUES.get().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_VALUES.get())


class _WellKnownEnvSource(EnvSettingsSource):
    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for variable, (section, key) in WELL_KNOWN_ENV.items():
            if os.environ.get(variable):
                found.setdefault(section, {})[key] = os.environ[variable]
        return found


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Settings from config.toml (if present), then the environment, then `overrides` (command-line flags) on top."""
    path = config_path or Path(os.environ.get(f"{ENV_PREFIX}CONFIG", "config.toml"))
    file_values = _read_toml(path, required=config_path is not None)
    _refuse_secrets_in_file(file_values, Settings, prefix="")
    token = _FILE_VALUES.set(file_values)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None
    finally:
        _FILE_VALUES.reset(token)


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from None


def _refuse_secrets_in_file(values: dict[str, Any], model: type[BaseModel], prefix: str) -> None:
    for name, value in values.items():
        field = model.model_fields.get(name)
        if field is None:
            continue
        annotation = field.annotation
        if isinstance(value, dict) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _refuse_secrets_in_file(value, annotation, f"{prefix}{name}.")
        elif value not in (None, "") and _is_secret(annotation):
            env_name = f"{ENV_PREFIX}{(prefix + name).upper().replace('.', ENV_NESTING)}"
            raise ConfigError(f"{prefix}{name}: secrets are read only from the environment ({env_name})")


def _is_secret(annotation: Any) -> bool:
    """SecretStr itself, or inside an Optional, a list or an Annotated (a sealing key) at any depth."""
    return annotation is SecretStr or any(_is_secret(argument) for argument in typing.get_args(annotation))


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "settings"
        env_name = ENV_PREFIX + key.upper().replace(".", ENV_NESTING)
        lines.append(f"{key}: {problem['msg']} (set in config.toml or {env_name})")
    return "invalid settings:\n  " + "\n  ".join(lines)


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, every secret replaced by asterisks."""
    return settings.model_dump(mode="json")
