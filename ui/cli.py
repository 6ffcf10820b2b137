"""``attune user add NAME [--role admin|clinician]``: create or reset a console account.

The password is read from ``ATTUNE_NEW_PASSWORD`` when set (for scripts),
otherwise asked twice without echo. Registered by ``attune.agent.cli``
through its ``_REGISTRARS`` list (add ``"attune.ui.cli"`` there).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys

__all__ = ["register", "cmd_user_add"]


def cmd_user_add(args: argparse.Namespace) -> int:
    from attune.agent.config import load_settings
    from attune.common.errors import AttuneError
    from attune.agent.store import open_store

    from .auth import create_user

    password = os.environ.get("ATTUNE_NEW_PASSWORD")
    if password is None:
        password = getpass.getpass(f"Password for {args.username}: ")
        if getpass.getpass("Again: ") != password:
            print("The passwords differ; nothing was saved.", file=sys.stderr)
            return 2
    try:
        settings = load_settings()
        store = open_store(settings)
        create_user(store, args.username, password, args.role)
    except AttuneError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    print(json.dumps({"user": args.username.strip().lower(), "role": args.role}))
    return 0


def register(sub) -> None:
    p = sub.add_parser("user", help="manage clinician console accounts")
    users = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = users.add_parser("add", help="create an account or reset its password")
    add.add_argument("username")
    add.add_argument("--role", choices=["clinician", "admin"], default="clinician")
    add.set_defaults(handler=cmd_user_add)
