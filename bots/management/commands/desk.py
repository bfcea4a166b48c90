"""Operator commands from the shell: pause, resume, kill or cancel-all for a market (or all of
them), and the state of each market. The same commands as the market page's buttons.

    manage.py desk status
    manage.py desk pause btc-usdt --reason "exchange maintenance at 14:00"
    manage.py desk kill --all --reason "outside venue halted withdrawals"
    manage.py desk resume --all --reason "venue back"
"""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from bots.market_making import operator_commands
from bots.models import KillSwitch, Market

MARKET_COMMANDS = {
    "pause": operator_commands.pause_market,
    "resume": operator_commands.resume_market,
    "kill": operator_commands.kill_market,
    "cancel-all": operator_commands.cancel_all,
}
DESK_COMMANDS = {"kill": operator_commands.kill_all, "resume": operator_commands.resume_all}


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("command", choices=["status", *MARKET_COMMANDS])
        parser.add_argument("market", nargs="?", help="the market's slug, e.g. btc-usdt")
        parser.add_argument(
            "--all", dest="whole_desk", action="store_true", help="the whole desk (kill and resume only)"
        )
        parser.add_argument("--reason", default="", help="why: kept in the audit log")

    def handle(self, *args, command: str, market: str | None, whole_desk: bool, reason: str, **options):
        if command == "status":
            return self.status()
        actor = f"{getpass.getuser()} (manage.py desk)"
        try:
            if whole_desk:
                if command not in DESK_COMMANDS:
                    raise CommandError(f"--all goes with kill or resume, not {command}")
                outcome = DESK_COMMANDS[command](reason=reason, actor=actor)
            else:
                if not market:
                    raise CommandError("name a market (e.g. btc-usdt), or --all for the whole desk")
                row = Market.objects.filter(slug=market).select_related(
                    "mm_account__venue", "hedge_account__venue"
                ).first()
                if row is None:
                    raise CommandError(f"no market {market!r}")
                outcome = MARKET_COMMANDS[command](row, reason=reason, actor=actor)
        except operator_commands.CommandRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(outcome.message)

    def status(self):
        switch = KillSwitch.objects.filter(pk=1, engaged=True).first()
        if switch:
            self.stdout.write(f"DESK KILLED by {switch.actor}: {switch.reason}")
        for market in Market.objects.order_by("slug"):
            reason = f"  ({market.state_reason})" if market.state_reason else ""
            self.stdout.write(f"{market.slug:<16} {market.state:<9}{reason}")
