"""Withdrawal terms read from the exchanges, from the shell: read them now, list what waits for
an admin, accept or dismiss one as a named admin (whose role is checked, as on the page).

    manage.py network_terms refresh
    manage.py network_terms list
    manage.py network_terms accept 3 --user ada
    manage.py network_terms dismiss 3 --user ada --note "binance's promotion ends tomorrow"
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from bots.models import NetworkTermsChange
from bots.treasury import network_facts
from bots.treasury.tasks import refresh_network_terms


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["refresh", "list", "accept", "dismiss"])
        parser.add_argument("change", nargs="?", type=int, help="the change's number")
        parser.add_argument("--user", help="the admin deciding")
        parser.add_argument("--note", default="", help="dismiss: why, kept in the audit log")

    def handle(self, *args, action: str, change: int | None, user: str | None, note: str, **options):
        if action == "refresh":
            for line in refresh_network_terms():
                self.stdout.write(line)
            return
        if action == "list":
            pending = NetworkTermsChange.objects.filter(state=NetworkTermsChange.PENDING)
            for row in pending.select_related("venue").order_by("pk"):
                self.stdout.write(f"#{row.pk} {network_facts.describe_change(row)}")
            return
        if change is None:
            raise CommandError(f"{action} needs the change's number")
        person = get_user_model().objects.filter(username=user or "").first()
        if person is None:
            raise CommandError("--user must name a Ballast user with the admin role")
        try:
            if action == "accept":
                done = network_facts.accept(change, person)
            else:
                done = network_facts.dismiss(change, person, note)
        except network_facts.NetworkTermsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(done)
