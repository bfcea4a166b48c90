"""Make a paper venue fail every call with a ccxt error, or heal it: for demos and drills."""

from django.core.management.base import BaseCommand, CommandError

from bots.models import Venue

FAULTS = [choice for choice, _ in Venue.FAULT_CHOICES if choice]


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("venue", help="the venue's name, e.g. external")
        parser.add_argument("fault", nargs="?", default="", help=f"one of {', '.join(FAULTS)}; none heals it")

    def handle(self, *args, venue: str, fault: str, **options):
        if fault and fault not in FAULTS:
            raise CommandError(f"unknown fault {fault!r}: choose one of {', '.join(FAULTS)}")
        row = Venue.objects.filter(name=venue).first()
        if row is None:
            raise CommandError(f"no venue named {venue!r}")
        if row.kind != Venue.PAPER:
            raise CommandError(f"{venue} is a real exchange: only paper venues can be told to fail")
        row.fault = fault
        row.save(update_fields=["fault"])
        self.stdout.write(f"{venue}: {'failing with ' + fault if fault else 'healthy'}")
