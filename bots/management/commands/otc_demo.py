"""Add the OTC broker market to the paper demo if it is missing (`make demo` seeds it with the
other markets) and print a new API token for it, with the curl lines that ask for and accept a
quote. Each run makes a new front-end client: a token is shown once, never again."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bots.simulation import demo_seed


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--client", default=demo_seed.BROKER_CLIENT, help="the API client's name")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the desk answers")

    def handle(self, *args, client: str, url: str, **options):
        with transaction.atomic():
            try:
                market = demo_seed.seed_broker_market()
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            name, token = demo_seed.new_broker_client(client)
        self.stdout.write(self.style.SUCCESS(
            f"Broker market {market.slug}: inventory {market.mm_account}, hedged on "
            f"{market.hedge_account.venue.label}."
        ))
        self.stdout.write(f"API token for {name} (shown once): {token}")
        self.stdout.write(curl_lines(url, market.slug, token))


def curl_lines(url: str, slug: str, token: str) -> str:
    """Asking for a quote and accepting it, as a front end would (docs/otc.md)."""
    return "\n".join([
        f"curl -s -X POST {url}/api/otc/v1/quotes -H 'Authorization: Bearer {token}' "
        f"-H 'Content-Type: application/json' "
        f"-d '{{\"market\": \"{slug}\", \"side\": \"buy\", \"amount\": \"0.1\", \"user\": \"demo-user\"}}'",
        f"curl -s -X POST {url}/api/otc/v1/quotes/<id>/accept -H 'Authorization: Bearer {token}'",
    ])
