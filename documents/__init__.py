"""The data model: Beanie documents, their indexes, and the rules of their state."""

from beanie import Document

from documents.analytics_opt_out import AnalyticsOptOut
from documents.api_key import ApiKey
from documents.audit import AuditEvent
from documents.booking import Booking
from documents.broadcast import Broadcast
from documents.calendar_feed import CalendarExport, CalendarImport
from documents.conversation import Conversation
from documents.conversation_message import ConversationMessage
from documents.device import Device
from documents.door_pass import DoorPass
from documents.holder_gate import HolderGate
from documents.host_application import HostApplication
from documents.hosted_event import HostedEvent
from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerEntry
from documents.marketing_consent import MarketingConsent
from documents.night_claim import NightClaim
from documents.notification import Notification
from documents.notification_preferences import NotificationPreferences
from documents.otp import OneTimeCode
from documents.paybill import PaybillPayment, PaybillReference
from documents.payment import Payment
from documents.payment_event import PaymentEvent
from documents.payout import Payout
from documents.payout_destination import PayoutDestination
from documents.pending_signup import PendingSignup
from documents.privacy_request import PrivacyRequest
from documents.profile import Profile
from documents.property import Property
from documents.reconciliation import B2cCheck, ReconciliationReport, ReconciliationRow
from documents.review import Review, ReviewReport
from documents.scan_record import ScanRecord
from documents.session import Session
from documents.stored_file import StoredFile
from documents.ticket import Ticket
from documents.ticket_order import TicketOrder
from documents.ticket_type import TicketType
from documents.user import User

# Every document the gateway stores; init_beanie and `lango migrate` work from this list.
ALL_DOCUMENTS: list[type[Document]] = [
    User, PendingSignup, Session, OneTimeCode, AuditEvent, ApiKey, Property, NightClaim, Booking, HolderGate, Device,
    StoredFile, AnalyticsOptOut, Notification, NotificationPreferences, Broadcast, HostedEvent, TicketType,
    TicketOrder, Ticket, DoorPass, ScanRecord, Payment, PaymentEvent, LedgerEntry, LedgerBalance, PaybillReference,
    PaybillPayment, PayoutDestination, Payout, Conversation, ConversationMessage, Profile, HostApplication, Review,
    ReviewReport, PrivacyRequest, MarketingConsent, ReconciliationReport, ReconciliationRow, CalendarImport,
    CalendarExport, B2cCheck,
]

__all__ = ["ALL_DOCUMENTS"]
