"""Add an OTC broker market to the paper demo (after `make demo` or `seed_demo`) and print a new
API token for it, with the curl lines that ask for and accept a quote."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bots.models import (
    Account,
    ApiClient,
    BrokerSettings,
    Market,
    PaperBalance,
    QuoteSettings,
    Venue,
)
from bots.otc import clients
from bots.simulation.demo_seed import EXTERNAL, OWN

SLUG, SYMBOL = "btc-usdt-otc", "BTC/USDT"
FUNDS = {"BTC": "5", "USDT": "300000"}


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--client", default="demo front end", help="the API client's name")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the desk answers")

    def handle(self, *args, client: str, url: str, **options):
        own = Venue.objects.filter(name=OWN, kind=Venue.PAPER).first()
        hedge = Account.objects.filter(venue__name=EXTERNAL, role=Account.HEDGING).first()
        if own is None or hedge is None:
            raise CommandError("no paper demo here: run `make demo` (or manage.py seed_demo) first")
        with transaction.atomic():
            inventory, made = Account.objects.get_or_create(
                venue=own, name="OTC inventory", defaults={"role": Account.MARKET_MAKING}
            )
            if made:
                for asset, amount in FUNDS.items():
                    PaperBalance.objects.create(account=inventory, asset=asset, free=amount)
            market, _ = Market.objects.get_or_create(
                slug=SLUG,
                defaults={"symbol": SYMBOL, "kind": Market.BROKER, "mm_account": inventory, "hedge_account": hedge},
            )
            QuoteSettings.objects.get_or_create(market=market)
            BrokerSettings.objects.get_or_create(market=market)
            name = client
            while ApiClient.objects.filter(name=name).exists():
                name += "+"
            _, token = clients.create(name, 60, None)
        self.stdout.write(self.style.SUCCESS(f"Broker market {SLUG}: inventory {inventory}, hedged on {hedge.venue.label}."))
        self.stdout.write(f"API token for {name} (shown once): {token}")
        self.stdout.write(
            f"curl -s -X POST {url}/api/otc/v1/quotes -H 'Authorization: Bearer {token}' "
            f"-H 'Content-Type: application/json' "
            f"-d '{{\"market\": \"{SLUG}\", \"side\": \"buy\", \"amount\": \"0.1\", \"user\": \"demo-user\"}}'"
        )
        self.stdout.write(f"curl -s -X POST {url}/api/otc/v1/quotes/<id>/accept -H 'Authorization: Bearer {token}'")

