"""What `lango demo` prints: who to sign in as, with what, and where to look next."""

import pyotp

from gateway.accounts.two_factor import ISSUER_NAME
from gateway.demo.catalogue import DEMO_PASSWORD
from gateway.demo.seed import DemoReport


def print_report(report: DemoReport, public_url: str) -> None:
    added = f"{report.created} things added" if report.created else "nothing added: it was seeded already"
    print(f"Demo marketplace ready ({added}): {report.listings} published listings, the event {report.event_title!r}.")
    print(f"Every demo account's password: {DEMO_PASSWORD}\n")
    width = max(len(account.person.email) for account in report.accounts)
    for account in report.accounts:
        person = account.person
        print(f"  {person.email:<{width}}  {person.phone}  {person.name}: {person.what}")
        if account.totp_secret:
            uri = pyotp.TOTP(account.totp_secret).provisioning_uri(name=person.email, issuer_name=ISSUER_NAME)
            print(f"  {'':<{width}}  two-factor secret {account.totp_secret} (add it to an authenticator app: {uri})")
    print(
        f'\nSign in: POST {public_url.rstrip("/")}/v1/auth/login with {{"email": …, "password": …}}. Agents answer '
        "`mfa_required`: POST /v1/auth/login/mfa with the `mfa_token` and the code their authenticator shows.\n"
        "Search the listings: GET /v1/properties?county=Mombasa, or ?near_lat=-0.10&near_lng=34.75&radius_m=20000 (Kisumu). "
        "Agents see their own at GET /v1/me/properties. An admin of your own: lango admin create --email you@example.com"
    )
    print(
        f"\nThe console: {public_url.rstrip('/')}/console. Agents sign in with their email, the password and their "
        "authenticator's code, and see their listings, the guests' bookings, the event's ticket sales and their "
        "earnings; an admin sees every payment, the ledger and payouts. Guests (and door staff) sign in to the app "
        "with the password alone: each guest has stays (some paid with M-Pesa, one still held) and paid tickets for "
        "the event (GET /v1/bookings, GET /v1/tickets)."
    )
