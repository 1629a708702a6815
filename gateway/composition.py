"""How a process is put together: its Services, opened in order and closed in reverse, and everything the domain
plugs into (payment purposes, the refund of a cancelled booking, jobs, periodic jobs, the bus's subscribers), listed
here whole rather than registered by imports.

A gateway holds sockets, so it also gets a realtime hub; a worker (`lango worker`) gets none, and never appears to
the other nodes as one that holds sockets.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime

import socketio
from redis.exceptions import RedisError
from saq import Queue

from documents.clock import stored_now
from documents.payment import PaymentPurpose
from gateway.accounts.codes import send_password_reset_code
from gateway.accounts.context import totp_sealing_keys
from gateway.accounts.signup import send_signup_code
from gateway.analytics.flush import flush_analytics
from gateway.analytics.subscriber import track_published
from gateway.bookings.holds import sweep_lapsed_holds
from gateway.bookings.lifecycle import complete_stays
from gateway.calendar_sync.sync import install_conflict_resync, sync_calendar_imports, sync_new_calendar_import
from gateway.database import create_mongo_client, init_documents
from gateway.files.lifecycle import sweep_abandoned_uploads
from gateway.jobs import JobCatalogue, create_queue
from gateway.logs import get_logger
from gateway.messaging.bus import MessageBus, Published
from gateway.notifications.booking_notices import install_booking_notices, send_booking_notice
from gateway.notifications.broadcasts import send_broadcast_batch
from gateway.notifications.delivery import deliver_notification
from gateway.notifications.reminders import send_booking_reminder, send_event_reminder
from gateway.outbound_http import create_http_client
from gateway.payments.booking_payments import BookingPayments, refund_cancelled_booking
from gateway.payments.purposes import PurposeHandler
from gateway.payments.receipts import send_payment_receipt
from gateway.payments.reconcile import reconcile_payments
from gateway.payouts.schedule import pay_out_earnings
from gateway.payouts.views import send_payout_notice
from gateway.privacy import (
    account_data,
    conversation_data,
    file_data,
    message_data,
    money_data,
    profile_data,
    redis_data,
    review_data,
    stay_data,
    ticket_data,
    vendor_data,
)
from gateway.privacy.deletion import cancel_deletion_on_sign_in, erase_due_deletions
from gateway.privacy.export import build_data_export
from gateway.privacy.registry import PersonalDataRegistry
from gateway.privacy.retention import apply_retention
from gateway.realtime.push import install_push_fallback, send_pending_push
from gateway.reconciliation.run import reconcile_requested_day, reconcile_yesterday
from gateway.redis_client import connect_redis, create_redis
from gateway.reviews.reveal import reveal_closed_reviews
from gateway.security.passwords import PasswordHasher
from gateway.security.rate_limits import RateLimiter
from gateway.security.signature_checks import SignatureChecks
from gateway.security.tokens import create_token_service
from gateway.services import Services
from gateway.settings import Settings
from gateway.tickets.cancelled_events import resume_event_cancellations, settle_cancelled_event
from gateway.tickets.orders import sweep_lapsed_ticket_holds
from gateway.tickets.payments import TicketOrderPayments
from gateway.tickets.runtime import ScanContexts, StatsPublisher, TicketsRuntime
from gateway.tickets.stats import DoorCounters
from gateway.vendors.adapters import create_maps, create_sink, create_store
from gateway.vendors.channels import channels
from gateway.vendors.payments import payment_vendors

log = get_logger("lango.composition")
# Every job a worker runs, and every periodic one.
JOBS = JobCatalogue(
    jobs=(
        send_password_reset_code,
        send_signup_code,
        send_booking_notice,
        send_booking_reminder,
        send_event_reminder,
        send_broadcast_batch,
        deliver_notification,
        send_payment_receipt,
        send_pending_push,
        settle_cancelled_event,
        send_payout_notice,
        build_data_export,
        reconcile_requested_day,
        sync_new_calendar_import,
    ),
    periodic=(
        sweep_lapsed_holds,
        sweep_lapsed_ticket_holds,
        complete_stays,
        reconcile_payments,
        resume_event_cancellations,
        sweep_abandoned_uploads,
        flush_analytics,
        pay_out_earnings,
        reveal_closed_reviews,
        erase_due_deletions,
        apply_retention,
        reconcile_yesterday,
        sync_calendar_imports,
    ),
)


def payment_purposes() -> dict[PaymentPurpose, PurposeHandler]:
    """What each purpose of payment pays for."""
    return {PaymentPurpose.BOOKING: BookingPayments(), PaymentPurpose.TICKET_ORDER: TicketOrderPayments()}


def personal_data() -> PersonalDataRegistry:
    """Every kind of personal data with its exporter and eraser (docs/privacy.md), in the order an erasure runs:
    records found through others first, Redis before the analytics vendor, the account itself last."""
    return PersonalDataRegistry(
        (
            money_data.VENDOR_STATEMENTS,
            money_data.PAYMENTS,
            money_data.PAYMENTS_RECEIVED,
            money_data.PAYBILL_REFERENCES,
            money_data.LEDGER,
            money_data.PAYOUTS,
            money_data.PAYOUT_DESTINATIONS,
            stay_data.BOOKINGS,
            stay_data.BOOKINGS_HOSTED,
            stay_data.LISTINGS,
            review_data.REVIEWS_WRITTEN,
            review_data.REVIEWS_ABOUT,
            review_data.REVIEW_REPORTS,
            conversation_data.CONVERSATIONS,
            profile_data.HOST_APPLICATIONS,
            ticket_data.SCANS,
            ticket_data.TICKETS,
            ticket_data.TICKET_ORDERS,
            ticket_data.TICKET_ORDERS_HOSTED,
            ticket_data.HOSTED_EVENTS,
            file_data.FILES,
            file_data.ARCHIVES,
            message_data.NOTIFICATIONS,
            message_data.NOTIFICATION_PREFERENCES,
            message_data.DEVICES,
            message_data.MARKETING_CONSENT,
            message_data.ANALYTICS_CHOICE,
            message_data.BROADCASTS_SENT,
            account_data.API_KEYS,
            account_data.HOLD_COUNTERS,
            account_data.ONE_TIME_CODES,
            account_data.PENDING_SIGNUPS,
            account_data.AUDIT_LOG,
            account_data.SESSIONS,
            redis_data.REDIS,
            vendor_data.ANALYTICS_VENDOR,
            # After everything that searches for the display name, and after reviews about the person, whose
            # removal takes their stars out of it.
            profile_data.PROFILE,
            account_data.ACCOUNT,
        )
    )


def subscribe_to_the_bus(services: Services) -> None:
    """What hears every published message: the push to offline phones, the booking notices, the calendar feeds that
    flagged a booking now let go, product analytics."""
    settings = services.settings
    install_push_fallback(services.bus, services.queue, settings.realtime.push_debounce_s)
    install_booking_notices(services)
    install_conflict_resync(services)

    async def track(published: Published) -> None:
        await track_published(services, published)

    services.bus.subscribe(track)


@asynccontextmanager
async def open_services(
    settings: Settings, *, sio: socketio.AsyncServer | None = None, clock: Callable[[], datetime] = stored_now
) -> AsyncIterator[Services]:
    """The process's Services: a gateway passes its Socket.IO server and gets a realtime hub; a worker passes none.
    `clock` is the time flows compare expiries with; tests pass one they move."""
    async with AsyncExitStack() as stack:
        mongo = create_mongo_client(settings.mongodb)
        stack.push_async_callback(mongo.close)
        await init_documents(mongo, settings.mongodb, create_indexes=False)
        redis = create_redis(settings.redis)
        stack.push_async_callback(redis.aclose)
        await connect_redis(redis)
        # Building the client loads the CA bundle (over half a second the first time): kept off the event loop.
        http = await asyncio.to_thread(create_http_client, settings.http)
        stack.push_async_callback(http.aclose)
        storage = create_store(settings)
        await storage.open()
        stack.push_async_callback(storage.close)
        queue = create_queue(settings)
        await queue.connect()
        stack.push_async_callback(_disconnect, queue)
        senders = await stack.enter_async_context(channels(settings, redis, http))
        payments = await stack.enter_async_context(payment_vendors(settings, http))
        bus = MessageBus(redis, settings)
        stack.push_async_callback(bus.close)
        counters = DoorCounters(redis, settings.redis)
        tickets = TicketsRuntime(
            ScanContexts(settings.tickets.scan_context_ttl_s),
            StatsPublisher(bus, settings.tickets.stats_push_interval_s, counters.read),
            counters,
        )
        stack.push_async_callback(tickets.stats.close)
        limits = RateLimiter(redis, settings.redis, settings.rate_limits)
        stack.push_async_callback(limits.close)
        await limits.open()
        hub = signature_checks = None
        if sio is not None:
            # Imported by the gateway role only: the hub serves sockets over aiohttp, which a worker or a command
            # has no use for and does not load.
            from gateway.realtime.hub import RealtimeHub

            hub = RealtimeHub(sio, redis, bus, settings)
            await hub.start()
            stack.push_async_callback(hub.stop)
            # Sockets' tokens are checked beside the loop (gateway/security/signature_checks.py).
            signature_checks = SignatureChecks()
            stack.callback(signature_checks.close)
        auth = settings.auth
        services = Services(
            settings=settings,
            mongo=mongo,
            redis=redis,
            http=http,
            queue=queue,
            bus=bus,
            tokens=create_token_service(auth, settings.environment, signature_checks),
            passwords=PasswordHasher(auth.bcrypt_cost),
            limits=limits,
            totp_keys=totp_sealing_keys(settings),
            email=senders.email,
            sms=senders.sms,
            push=senders.push,
            storage=storage,
            maps=create_maps(settings, http),
            analytics=create_sink(settings, http),
            payments=payments,
            purposes=payment_purposes(),
            booking_refunders=(refund_cancelled_booking,),
            tickets=tickets,
            personal_data=personal_data(),
            sign_in_hooks=(cancel_deletion_on_sign_in,),
            hub=hub,
            clock=clock,
        )
        subscribe_to_the_bus(services)
        yield services


async def _disconnect(queue: Queue) -> None:
    try:
        await queue.disconnect()
    except (RedisError, OSError) as error:
        # Shutting down while Redis is unreachable must still let the process exit cleanly.
        log.warning("job queue disconnect failed", error=str(error))
