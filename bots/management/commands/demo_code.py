"""Print the current two-factor code of a demo login: only for the authenticator seed_demo
made (a real operator's key never leaves their own authenticator app)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from bots.desk import two_factor


class Command(BaseCommand):
    help = "The current two-factor code of a login seed_demo enrolled"

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="operator")

    def handle(self, *args, username: str, **options):
        device = TOTPDevice.objects.filter(
            user__username=username, name=two_factor.DEMO_DEVICE
        ).first()
        if device is None:
            raise CommandError(f"{username} has no demo authenticator (seed_demo makes one).")
        self.stdout.write(two_factor.current_code(device))
