"""Transfer commands from the shell: list them, run the planner, and act on one as a named
Ballast user (whose role is checked, as on the panel). The same commands as the panel's buttons.

    manage.py transfers list
    manage.py transfers plan
    manage.py transfers approve 12 --user olivia --comment "hedge account over its band"
    manage.py transfers sent 12 --user olivia --amount 1.4 --fee 0.0002 --txid 0x5e1f...
    manage.py transfers confirm 12 --user olivia
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bots.market_making import operator_commands as commands
from bots.models import TransferProposal
from bots.treasury.inventory import account_label
from bots.treasury.tasks import plan_rebalance

ACTIONS = ("approve", "reject", "cancel", "sent", "withdraw", "confirm", "fail")


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "plan", *ACTIONS])
        parser.add_argument("transfer", nargs="?", type=int, help="the transfer's number")
        parser.add_argument("--user", help="the Ballast user acting (an operator)")
        parser.add_argument("--comment", default="", help="kept in the audit log")
        parser.add_argument(
            "--code", help="approve: the user's authenticator code (above the threshold)"
        )
        parser.add_argument("--amount", help="sent: the amount withdrawn")
        parser.add_argument("--fee", default="0", help="sent: the withdrawal fee")
        parser.add_argument("--txid", default="", help="sent: the transaction id or hash")

    def handle(self, *args, action: str, transfer: int | None, user: str | None, **options):
        if action == "list":
            return self.list()
        if action == "plan":

            return self.stdout.write(f"{plan_rebalance()} new proposal(s).")
        if transfer is None:
            raise CommandError(f"{action} needs the transfer's number")
        person = get_user_model().objects.filter(username=user or "").first()
        if person is None:
            raise CommandError("--user must name a Ballast user with the operator role")
        comment = options["comment"]
        try:
            done = {
                "approve": lambda: commands.approve_transfer(
                    transfer, person, comment, options["code"]
                ),
                "reject": lambda: commands.reject_transfer(transfer, person, comment),
                "cancel": lambda: commands.cancel_transfer(transfer, person, comment),
                "sent": lambda: commands.record_transfer_sent(
                    transfer, person, options["amount"] or "", options["fee"], options["txid"]
                ),
                "withdraw": lambda: commands.withdraw_transfer(transfer, person),
                "confirm": lambda: commands.confirm_transfer(transfer, person, comment),
                "fail": lambda: commands.fail_transfer(transfer, person, comment),
            }[action]()
        except commands.TransferError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(done.message)

    def list(self):
        rows = TransferProposal.objects.select_related("source__venue", "destination__venue")
        for p in rows.order_by("-pk")[:30]:
            self.stdout.write(
                f"#{p.pk:<5} {p.state:<10} {p.amount.normalize():f} {p.asset} "
                f"{account_label(p.source)} -> {account_label(p.destination)}"
            )
