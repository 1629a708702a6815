"""The `lango` command: serve, worker, migrate, backup, restore, check-config, keys new, ledger check and reconcile,
mpesa register-c2b, and the operator's commands."""

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from gateway.cli_admin import add_operator_commands
from gateway.settings import ConfigError, Settings, load_settings, masked

EXIT_CONFIG = 2


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        settings = load_settings(arguments.config, **_overrides(arguments))
    except ConfigError as error:
        print(f"lango: {error}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    command: Callable[[Settings, argparse.Namespace], int] = arguments.run
    sys.exit(command(settings, arguments))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lango", description="The Lango realtime gateway.")
    parser.add_argument("--config", type=Path, default=None, help="settings file (default: $LANGO_CONFIG or ./config.toml)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway (embedded MongoDB and Redis when none is configured)")
    serve.add_argument("--host", default=None, help="listen address (server.host)")
    serve.add_argument("--port", type=int, default=None, help="listen port (server.port)")
    serve.add_argument("--workers", type=int, default=None, help="gateway processes sharing the port (server.workers)")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run background jobs (production: beside the gateways)")
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser(
        "migrate",
        help="create or update every index, apply pending data migrations, re-seal what a previous key sealed; "
        "safe on every deploy",
    )
    migrate.set_defaults(run=_migrate)

    backup = commands.add_parser("backup", help="write every collection to a compressed archive in the backup store")
    backup.set_defaults(run=_backup)

    restore = commands.add_parser("restore", help="load a backup archive into an empty database, then migrate")
    restore.add_argument("key", help="the archive's key, as printed by `lango backup`")
    restore.set_defaults(run=_restore)

    check = commands.add_parser("check-config", help="validate and print the effective settings, secrets masked")
    check.set_defaults(run=_check_config)

    keys = commands.add_parser("keys", help="access-token signing keys")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    new_key = key_commands.add_parser("new", help="print a fresh Ed25519 signing key for LANGO_AUTH__SIGNING_KEYS")
    new_key.set_defaults(run=_new_signing_key)

    add_operator_commands(commands)

    ledger = commands.add_parser("ledger", help="the marketplace's double-entry ledger")
    ledger_commands = ledger.add_subparsers(required=True, metavar="ACTION")
    ledger_check = ledger_commands.add_parser(
        "check", help="verify every entry balances and every balance equals the sum of its lines; exit 1 naming each fault"
    )
    ledger_check.set_defaults(run=_ledger_check)
    ledger_reconcile = ledger_commands.add_parser(
        "reconcile", help="reconcile a UTC day with each payment vendor now, replacing its reports; print each "
        "report's counts and exit 1 when one found a mismatch or could not complete"
    )  # fmt: skip
    ledger_reconcile.add_argument("day", metavar="DAY", type=_utc_day, help="the UTC day, YYYY-MM-DD")
    ledger_reconcile.add_argument("--provider", help="only this vendor (mpesa, stripe, paypal)")
    ledger_reconcile.set_defaults(run=_ledger_reconcile)

    mpesa = commands.add_parser("mpesa", help="M-Pesa (Daraja) set-up for a live shortcode")
    mpesa_commands = mpesa.add_subparsers(required=True, metavar="ACTION")
    register_c2b = mpesa_commands.add_parser(
        "register-c2b",
        help="register the shortcode's Paybill validation and confirmation URLs with Daraja (once per shortcode)",
    )
    register_c2b.set_defaults(run=_register_c2b)
    return parser


def _utc_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day like 2026-12-02: {text}") from None


def _overrides(arguments: argparse.Namespace) -> dict[str, Any]:
    server = {key: value for key in ("host", "port", "workers") if (value := getattr(arguments, key, None)) is not None}
    return {"server": server} if server else {}


def _check_config(settings: Settings, _: argparse.Namespace) -> int:
    print(orjson.dumps(masked(settings), option=orjson.OPT_INDENT_2).decode())
    return 0


def _new_signing_key(settings: Settings, _: argparse.Namespace) -> int:
    from gateway.crypto.signing_keys import new_signing_key

    entry = new_signing_key()
    print(orjson.dumps(entry).decode())
    print(
        "# Put this entry first in LANGO_AUTH__SIGNING_KEYS, keep the current keys after it, e.g.\n"
        f'# LANGO_AUTH__SIGNING_KEYS=\'{{"keys": [{orjson.dumps(entry).decode()}, <current keys>], "retired": []}}\'',
        file=sys.stderr,
    )
    return 0


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from gateway.migrate import migrate
    from gateway.runtime import run_with_servers

    return run_with_servers(settings, lambda ready: asyncio.run(migrate(ready)))


def _backup(settings: Settings, _: argparse.Namespace) -> int:
    from gateway.backup import create_backup
    from gateway.runtime import run_with_servers

    def back_up(ready: Settings) -> int:
        print(asyncio.run(create_backup(ready)))
        return 0

    return run_with_servers(settings, back_up)


def _restore(settings: Settings, arguments: argparse.Namespace) -> int:
    from gateway.backup import BackupError, restore_backup
    from gateway.migrate import migrate
    from gateway.runtime import run_with_servers

    async def restore_then_migrate(ready: Settings) -> None:
        await restore_backup(ready, arguments.key)
        await migrate(ready)

    def restore(ready: Settings) -> int:
        try:
            asyncio.run(restore_then_migrate(ready))
        except BackupError as error:
            print(f"lango: {error}", file=sys.stderr)
            return 1
        return 0

    return run_with_servers(settings, restore)


def _ledger_check(settings: Settings, _: argparse.Namespace) -> int:
    from gateway.database import create_mongo_client
    from gateway.ledger.check import check_ledger
    from gateway.runtime import run_with_servers

    async def check(ready: Settings) -> list[str]:
        client = create_mongo_client(ready.mongodb)
        try:
            return await check_ledger(client[ready.mongodb.database])
        finally:
            await client.close()

    def report(ready: Settings) -> int:
        problems = asyncio.run(check(ready))
        for problem in problems:
            print(f"lango ledger check: {problem}", file=sys.stderr)
        print("ledger: every entry balances and every balance matches its lines" if not problems else f"ledger: {len(problems)} problem(s)")
        return 1 if problems else 0

    return run_with_servers(settings, report)


def _ledger_reconcile(settings: Settings, arguments: argparse.Namespace) -> int:
    from gateway.cli_admin import operate
    from gateway.reconciliation.run import reconcile_day_everywhere, report_summary
    from gateway.services import Services

    async def reconcile(services: Services) -> int:
        providers = [arguments.provider] if arguments.provider else None
        done = await reconcile_day_everywhere(services, arguments.day, providers)
        if not done:
            missing = f"no payment vendor named {arguments.provider}" if arguments.provider else "no payment vendor"
            print(f"lango ledger reconcile: {missing} is configured", file=sys.stderr)
            return 1
        faults = 0
        for provider, outcome in done.items():
            line, clean = await report_summary(arguments.day, provider, outcome)
            print(line)
            faults += not clean
        return 1 if faults else 0

    return operate(settings, reconcile)
def _register_c2b(settings: Settings, _: argparse.Namespace) -> int:
    from gateway.vendors.paybill_registration import RegistrationImpossible, register_live_paybill
    from providers.errors import ProviderError

    try:
        urls, answer = asyncio.run(register_live_paybill(settings))
    except (RegistrationImpossible, ProviderError) as error:
        print(f"lango mpesa register-c2b: {error}", file=sys.stderr)
        return 1
    shortcode = settings.payments.mpesa.shortcode
    # The URLs carry the callback token: printed with it masked, as Daraja has them.
    token = settings.payments.mpesa.callback_token.get_secret_value() if settings.payments.mpesa.callback_token else ""
    for name, url in (("confirmation", urls.confirmation), ("validation", urls.validation)):
        print(f"{name}: {url.replace(token, '<callback_token>')}")
    print(f"shortcode {shortcode} registered: {answer.get('ResponseDescription', answer)}")
    return 0


def _serve(settings: Settings, _: argparse.Namespace) -> int:
    from gateway.runtime import run_with_servers, serve

    return run_with_servers(settings, serve)


def _worker(settings: Settings, _: argparse.Namespace) -> int:
    from gateway.runtime import run_with_servers, run_worker

    return run_with_servers(settings, run_worker)


if __name__ == "__main__":
    main()
