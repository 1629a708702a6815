"""The operator's commands: `lango admin create` makes an admin account, `lango users grant|revoke` changes roles,
`lango demo` seeds a marketplace to click through."""

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from gateway.security.callers import ROLES
from gateway.settings import Settings

if TYPE_CHECKING:
    from documents.user import User
    from gateway.services import Services

EXIT_REFUSED = 1
EXIT_USAGE = 2


def add_operator_commands(commands: "argparse._SubParsersAction[Any]") -> None:
    admin = commands.add_parser("admin", help="admin accounts")
    admin_commands = admin.add_subparsers(required=True, metavar="ACTION")
    create = admin_commands.add_parser(
        "create",
        help="create a confirmed admin account (the password is prompted for, or read with --password-stdin); "
        "running it again changes nothing",
    )
    create.add_argument("--email", help="the admin's email")
    create.add_argument("--phone", help="the admin's phone number (0712…, +254712…)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of standard input"
    )
    create.set_defaults(run=_create_admin)

    users = commands.add_parser("users", help="accounts' roles")
    user_commands = users.add_subparsers(required=True, metavar="ACTION")
    for action, granted, summary in (
        ("grant", True, "grant USER the role ROLE"),
        ("revoke", False, "remove the role ROLE from USER, who is signed out everywhere at once"),
    ):
        change = user_commands.add_parser(action, help=summary)
        change.add_argument("user", metavar="USER", help="the account's email, phone number or id")
        change.add_argument("role", metavar="ROLE", choices=sorted(ROLES), help=f"one of {', '.join(sorted(ROLES))}")
        change.set_defaults(run=partial(_change_role, granted=granted))

    demo = commands.add_parser(
        "demo",
        help="seed a demo marketplace (agents, photographed listings, an event, door staff, guests) and print how to "
        "sign in as each; running it again adds nothing; refused in production",
    )
    demo.set_defaults(run=_seed_demo)


def operate(settings: Settings, work: Callable[["Services"], Awaitable[int]]) -> int:
    """Run `work` with the Services of the configured database, or of the embedded servers a running `make run` holds
    (started here when none runs); a refusal is printed with its reason and exits 1."""
    from gateway.composition import open_services
    from gateway.problems import Problem
    from gateway.runtime import run_with_servers

    async def with_services(ready: Settings) -> int:
        async with open_services(ready) as services:
            return await work(services)

    def run(ready: Settings) -> int:
        try:
            return asyncio.run(with_services(ready))
        except Problem as problem:
            print(f"lango: {problem.title}: {problem}" if problem.detail else f"lango: {problem.title}", file=sys.stderr)
            return EXIT_REFUSED

    # An operator's command prints what it did; the Services' start-up notes (keys a gateway needs, not this command)
    # would drown it. Errors still show.
    quiet = settings.model_copy(update={"logging": settings.logging.model_copy(update={"level": "ERROR"})})
    return run_with_servers(quiet, run, join_running=True)


def read_password(from_stdin: bool) -> str | None:
    """The password from stdin's first line, or asked twice on the terminal; None (said why) when neither can be."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print("lango: no terminal to ask for the password on: pass --password-stdin and write it there", file=sys.stderr)
        return None
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        print("lango: the two passwords differ", file=sys.stderr)
        return None
    return password


def account_label(user: "User") -> str:
    return f"{user.email or user.phone} ({user.id})"


def _create_admin(settings: Settings, arguments: argparse.Namespace) -> int:
    if not (arguments.email or arguments.phone):
        print("lango: give --email, --phone or both", file=sys.stderr)
        return EXIT_USAGE
    password = read_password(arguments.password_stdin)
    if password is None:
        return EXIT_REFUSED

    async def create(services: "Services") -> int:
        from gateway.accounts.provisioning import provision_account

        made = await provision_account(
            services, email=arguments.email, phone=arguments.phone, password=password, roles=["admin"], via="cli"
        )
        if made.created:
            print(f"created admin {account_label(made.user)}: sign in with it, then turn on two-factor when asked")
            return 0
        if "admin" in made.user.roles:
            print(f"{account_label(made.user)} is already an admin: nothing changed (its password too)")
            return 0
        print(
            f"lango: {account_label(made.user)} exists and is not an admin: "
            f"`lango users grant {made.user.email or made.user.phone} admin` makes it one",
            file=sys.stderr,
        )
        return EXIT_REFUSED

    return operate(settings, create)


def _change_role(settings: Settings, arguments: argparse.Namespace, *, granted: bool) -> int:
    role = arguments.role

    async def change(services: "Services") -> int:
        from gateway.accounts.provisioning import account_named
        from gateway.accounts.roles import change_role

        user = await account_named(arguments.user)
        if user is None:
            print(f"lango: no account is named {arguments.user!r}", file=sys.stderr)
            return EXIT_REFUSED
        if (role in user.roles) == granted:
            state = "already has" if granted else "does not have"
            print(f"{account_label(user)} {state} the {role} role: nothing changed")
            return 0
        # The admin API's own flow: audited (via cli), and a removal signs the account out of every live session.
        user = await change_role(services, None, str(user.id), role, granted=granted)
        if granted:
            print(f"granted {role} to {account_label(user)}")
        else:
            print(f"removed {role} from {account_label(user)}: signed out everywhere")
        return 0

    return operate(settings, change)


def _seed_demo(settings: Settings, _: argparse.Namespace) -> int:
    async def seed(services: "Services") -> int:
        from gateway.demo.report import print_report
        from gateway.demo.seed import seed_demo

        print_report(await seed_demo(services), settings.server.public_url)
        return 0

    return operate(settings, seed)
