"""Money and quantities become ExactDecimalField: bounded by validators (forms, full_clean) and,
on SQLite, kept as exact text under the ballast_decimal collation instead of REAL.

PostgreSQL keeps numeric(38, 18): for it the change is the models' state only. On SQLite each
table with money is rebuilt once (Django's AlterField would rebuild it once per column), and the
values SQLite converted from REAL to text on the way (1.0e+20, 65000.5) are written out as
canonical fixed-point text. A value Django could not read back before (a float that no longer
fits 38 digits at 18 places, such as 1e20) reads back again, and can be corrected.
"""

from decimal import Context, Decimal

from django.db import migrations, models

import bots.models.fields
from bots.models.fields import ExactDecimalField

_WIDE = Context(prec=80)


def _money(model) -> list:
    return [f for f in model._meta.local_concrete_fields if isinstance(f, ExactDecimalField)]


def _models(apps) -> list:
    return [m for m in apps.get_app_config("bots").get_models() if _money(m)]


def _canonical(text: str, places: int) -> str:
    value = _WIDE.quantize(Decimal(text), Decimal(1).scaleb(-places))
    return format(value.copy_abs() if value.is_zero() else value, "f")


def to_exact_text(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    quote = schema_editor.quote_name
    for model in _models(apps):
        schema_editor._remake_table(model)
        fields = _money(model)
        columns = ", ".join(quote(f.column) for f in fields)
        table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {columns} FROM {table}")  # noqa: S608
            rows = cursor.fetchall()
            for i, field in enumerate(fields, start=1):
                changed = []
                for row in rows:
                    if row[i] is not None:
                        text = _canonical(row[i], field.decimal_places)
                        if text != row[i]:
                            changed.append((text, row[0]))
                cursor.executemany(
                    f"UPDATE {table} SET {quote(field.column)} = %s WHERE {pk} = %s", changed  # noqa: S608
                )


def to_numeric(apps, schema_editor):
    """Back to SQLite's numeric columns (PaperBalance was text before too: left as it is)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for model in _models(apps):
        if model._meta.model_name == "paperbalance":
            continue
        pairs = []
        for field in _money(model):
            _, _, args, kwargs = field.deconstruct()
            kwargs.pop("low", None)
            kwargs.pop("high", None)
            numeric = models.DecimalField(*args, **kwargs)
            numeric.set_attributes_from_name(field.name)
            pairs.append((field, numeric))
        schema_editor._remake_table(model, alter_fields=pairs)


STATE = [
    migrations.AlterField(
        model_name='balancesnapshot',
        name='free',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='balancesnapshot',
        name='total',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='balancesnapshot',
        name='used',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='fill',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='fill',
        name='cost',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='fill',
        name='fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='fill',
        name='price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='ask_depth_05',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='ask_depth_1',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='ask_depth_2',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='bid_depth_05',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='bid_depth_1',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='bid_depth_2',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='mid',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='reference_mid',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='spread_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='healthsample',
        name='volume_24h',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Quote currency the MM bot traded over the last 24 h', max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='average_price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='cost',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='expected_price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='fee_quote',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='filled',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='limit_price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='pnl_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='pnl_quote',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='hedge',
        name='slippage_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='hedgecover',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgecover',
        name='fee_quote',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgecover',
        name='price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgemismatch',
        name='recorded_cost',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgemismatch',
        name='recorded_filled',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgemismatch',
        name='venue_cost',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgemismatch',
        name='venue_filled',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgeorder',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgeorder',
        name='cost',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgeorder',
        name='expected_price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgeorder',
        name='fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgeorder',
        name='filled',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgeorder',
        name='limit_price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgesettings',
        name='ladder_step_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('10'), help_text='Extra slippage allowed at each further step', high=Decimal('500'), low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='hedgesettings',
        name='max_notional',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('10000'), help_text='Largest order on a hedge venue, in quote currency; bigger hedges are split', high=Decimal('1000000000'), low=Decimal('1'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='inventoryband',
        name='maximum',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='inventoryband',
        name='minimum',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='inventoryband',
        name='reserve',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, help_text='Never moved by a transfer, whatever the bands say (an amount of the asset)', low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='inventoryband',
        name='target',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='market',
        name='reference_price',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, help_text="The hedge venues' mid at the last tick", max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='market',
        name='sim_mean_amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0.05'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='market',
        name='target_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, help_text='Base asset the exchange means to hold across both bot accounts', max_digits=38),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='depth_05_alarm',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Red below, quote currency per side', low=Decimal('0'), max_digits=38, verbose_name='depth ±0.5% red line'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='depth_05_target',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Green at or above, quote currency per side', low=Decimal('0'), max_digits=38, verbose_name='depth ±0.5% target'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='depth_1_alarm',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Red below, quote currency per side', low=Decimal('0'), max_digits=38, verbose_name='depth ±1% red line'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='depth_1_target',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Green at or above, quote currency per side', low=Decimal('0'), max_digits=38, verbose_name='depth ±1% target'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='depth_2_alarm',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Red below, quote currency per side', low=Decimal('0'), max_digits=38, verbose_name='depth ±2% red line'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='depth_2_target',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Green at or above, quote currency per side', low=Decimal('0'), max_digits=38, verbose_name='depth ±2% target'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='listing_max_spread_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text="The exchange's listing rule", high=Decimal('10000'), low=Decimal('0'), max_digits=38, verbose_name='listing: maximum spread (bps)'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='listing_min_daily_volume',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Quote currency over 24 h, listing rule', low=Decimal('0'), max_digits=38, verbose_name='listing: minimum daily volume'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='listing_min_depth',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Quote currency per side, listing rule', low=Decimal('0'), max_digits=38, verbose_name='listing: minimum depth'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='spread_alarm_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Red above, in bps of the mid', high=Decimal('10000'), low=Decimal('0'), max_digits=38, verbose_name='spread red line (bps)'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='spread_target_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Green at or below, in bps of the mid', high=Decimal('10000'), low=Decimal('0'), max_digits=38, verbose_name='spread target (bps)'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='uptime_alarm_pct',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Red below', high=Decimal('100'), low=Decimal('0'), max_digits=38, verbose_name='uptime red line (%)'),
    ),
    migrations.AlterField(
        model_name='markettargets',
        name='uptime_target_pct',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Share of the day both sides are quoted: green at or above', high=Decimal('100'), low=Decimal('0'), max_digits=38, verbose_name='uptime target (%)'),
    ),
    migrations.AlterField(
        model_name='order',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='order',
        name='filled',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='order',
        name='price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='papermarket',
        name='amount_step',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papermarket',
        name='maker_fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papermarket',
        name='min_amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papermarket',
        name='min_cost',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papermarket',
        name='price_tick',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papermarket',
        name='reference_price',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='papermarket',
        name='taker_fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papermarket',
        name='volatility_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=2, high=Decimal('10000'), low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='paperorder',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='paperorder',
        name='cost',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='paperorder',
        name='fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='paperorder',
        name='filled',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='paperorder',
        name='price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='papertrade',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papertrade',
        name='cost',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papertrade',
        name='fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papertrade',
        name='price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papertransfer',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='papertransfer',
        name='fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='amount_growth',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0.5'), help_text='Each level further out is this fraction of the first level larger (negative: smaller)', high=Decimal('10'), low=Decimal('-0.9'), max_digits=38, verbose_name='Size step'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='as_gamma',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0.02'), help_text="How strongly inventory moves the reservation price (prices in bps of the reference, inventory in sides' worth of levels)", high=Decimal('100'), low=Decimal('0.0001'), max_digits=38, verbose_name='Risk aversion γ'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='as_horizon_seconds',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('60'), help_text='Time horizon of the inventory risk', high=Decimal('86400'), low=Decimal('1'), max_digits=38, verbose_name='Horizon T-t'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='as_kappa',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0.1'), help_text='Arrival intensity decay A·exp(-k·δ), δ in bps: larger k, tighter quotes', high=Decimal('100'), low=Decimal('0.0001'), max_digits=38, verbose_name='Order book liquidity k'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='ask_budget_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Most base the asks together may commit', high=Decimal('1000000000'), low=Decimal('0'), max_digits=38, verbose_name='Ask budget'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='ask_spread_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('15'), help_text='Distance of the best ask above the reference price', high=Decimal('5000'), low=Decimal('0'), max_digits=38, verbose_name='Ask spread'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='bid_budget_quote',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Most quote the bids together may commit', high=Decimal('1000000000000'), low=Decimal('0'), max_digits=38, verbose_name='Bid budget'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='bid_spread_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('15'), help_text='Distance of the best bid below the reference price', high=Decimal('5000'), low=Decimal('0'), max_digits=38, verbose_name='Bid spread'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='breaker_move_pct',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('2'), help_text='A reference move larger than this between ticks cancels everything and pauses', high=Decimal('50'), low=Decimal('0'), max_digits=38, verbose_name='Price breaker'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='breaker_pause_seconds',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('30'), help_text='How long the breaker keeps the market from quoting', high=Decimal('3600'), low=Decimal('1'), max_digits=38, verbose_name='Breaker pause'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='filled_order_delay_seconds',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('5'), help_text='After a fill, wait this long before placing new orders on that side', high=Decimal('3600'), low=Decimal('0'), max_digits=38, verbose_name='Filled-order delay'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='hedge_buffer_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('2'), help_text="Edge every level keeps after hedging it and paying both venues' fees", high=Decimal('1000'), low=Decimal('0'), max_digits=38, verbose_name='Floor buffer'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='hedge_pending_seconds',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('10'), help_text='No new orders on a side while one of its hedges has been pending this long', high=Decimal('3600'), low=Decimal('1'), max_digits=38, verbose_name='Pending hedge limit'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='hedge_slippage_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('20'), help_text="A hedge never trades further than this past the hedge book's price", high=Decimal('500'), low=Decimal('0'), max_digits=38, verbose_name='Hedge slippage'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='inventory_range_multiplier',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('1'), help_text="Skew is full when the base held is this many sides' worth of levels from the target", high=Decimal('100'), low=Decimal('0.1'), max_digits=38, verbose_name='Inventory range'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='level_amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0.05'), help_text='Size of the level nearest the reference', high=Decimal('1000000'), low=Decimal('1E-8'), max_digits=38, verbose_name='Level size'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='level_spacing_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('5'), help_text='Distance between consecutive levels of a side', high=Decimal('1000'), low=Decimal('0'), max_digits=38, verbose_name='Level spacing'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='max_order_age_seconds',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Replace an order this old even when it is on target', high=Decimal('86400'), low=Decimal('0'), max_digits=38, verbose_name='Max order age'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='max_unhedged_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Above this unhedged base, the side that would add to it stops quoting', high=Decimal('1000000000'), low=Decimal('0'), max_digits=38, verbose_name='Exposure limit'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='minimum_spread_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Cancel an order the reference has moved closer than this', high=Decimal('1000'), low=Decimal('0'), max_digits=38, verbose_name='Minimum spread'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='mirror_fraction',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0.5'), help_text="Mirror mode: share of each hedge book level's size shown on the own book", high=Decimal('1'), low=Decimal('0.01'), max_digits=38, verbose_name='Mirror fraction'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='order_refresh_seconds',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('10'), help_text='An order that drifted from its target is replaced only once it has rested this long', high=Decimal('3600'), low=Decimal('0'), max_digits=38, verbose_name='Order refresh time'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='position_band_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Beyond this far from the target position, the side that makes it worse stops quoting', high=Decimal('1000000000'), low=Decimal('0'), max_digits=38, verbose_name='Position band'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='position_target_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Base the MM account means to hold', high=Decimal('1000000000'), low=Decimal('0'), max_digits=38, verbose_name='Target position'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='price_ceiling',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Above this reference price only sell', high=Decimal('1000000000000'), low=Decimal('0'), max_digits=38, verbose_name='Price ceiling'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='price_floor',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Below this reference price only buy', high=Decimal('1000000000000'), low=Decimal('0'), max_digits=38, verbose_name='Price floor'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='refresh_tolerance_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('3'), help_text='Keep an order whose price is this close to its target', high=Decimal('1000'), low=Decimal('0'), max_digits=38, verbose_name='Refresh tolerance'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='reserve_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Base left uncommitted in the MM account whatever the budget', high=Decimal('1000000000'), low=Decimal('0'), max_digits=38, verbose_name='Base reserve'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='reserve_quote',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0'), help_text='Quote left uncommitted in the MM account whatever the budget', high=Decimal('1000000000000'), low=Decimal('0'), max_digits=38, verbose_name='Quote reserve'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='skew_price_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('5'), help_text='How far both quotes move at full skew (away from the side that makes it worse)', high=Decimal('1000'), low=Decimal('0'), max_digits=38, verbose_name='Skew price shift'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='stale_after_seconds',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('5'), help_text='No quotes while the hedge book is older than this', high=Decimal('600'), low=Decimal('0.5'), max_digits=38, verbose_name='Stale reference'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='target_base_pct',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('50'), help_text="Share of the MM account's value to hold in the base asset", high=Decimal('100'), low=Decimal('0'), max_digits=38, verbose_name='Target base share'),
    ),
    migrations.AlterField(
        model_name='quotesettings',
        name='volatility_window_seconds',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('300'), help_text='Reference prices this recent estimate sigma', high=Decimal('3600'), low=Decimal('10'), max_digits=38, verbose_name='Volatility window'),
    ),
    migrations.AlterField(
        model_name='rebalancepolicy',
        name='arrival_tolerance',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0.001'), help_text='A deposit within this fraction of the amount expected counts as the arrival', high=Decimal('0.1'), low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='rebalancepolicy',
        name='max_fee_share',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('0.01'), help_text='Never propose a transfer whose fee is more than this fraction of it', high=Decimal('0.5'), low=Decimal('0.0001'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='rebalancepolicy',
        name='runway_alert_hours',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('6'), help_text="Alert, and plan towards the target, when an account's runway falls below this", high=Decimal('720'), low=Decimal('0.1'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='rebalancepolicy',
        name='two_approvers_above',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Transfers of more than this amount need two different operators', low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='buy_share',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Share of user orders that buy, 0 to 1', max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='confidence_pct',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='daily_volatility_pct',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Standard deviation of the daily log return, %', max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='edge_mean',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='edge_p05',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='edge_p95',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='floor_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='floor_quote',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='hedge_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='hedge_cost_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text="The hedge's distance from the mid, taker fee included", high=Decimal('10000'), low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='hedge_quote',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='horizon_days',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Rebalance at most once in this many days', max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='mean_size',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text="Mean user order, base units (the exponential's mean)", max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='median_days_to_dry',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, help_text='Empty when most paths lasted', max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='mm_base',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='mm_half_spread_bps',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text="The MM bot's distance from the mid", high=Decimal('10000'), low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='mm_quote',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='need_hedge_base',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='need_hedge_quote',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='need_mm_base',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='need_mm_quote',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='p05_days_to_dry',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, help_text='Empty when 95% of paths lasted', max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='price',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Mid price at the start, quote per base', max_digits=38),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='share_dry',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, help_text='Share of paths that needed a rebalance', max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='sizingrun',
        name='trades_per_minute',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, max_digits=38),
    ),
    migrations.AlterField(
        model_name='transferproposal',
        name='amount',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Leaves the source; the fee comes out of it', max_digits=38),
    ),
    migrations.AlterField(
        model_name='transferproposal',
        name='destination_baseline',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, help_text="The destination's total when it was sent", max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='transferproposal',
        name='fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, max_digits=38),
    ),
    migrations.AlterField(
        model_name='transferproposal',
        name='sent_amount',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='transferproposal',
        name='sent_fee',
        field=bots.models.fields.ExactDecimalField(blank=True, decimal_places=18, max_digits=38, null=True),
    ),
    migrations.AlterField(
        model_name='withdrawalnetwork',
        name='fee',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, help_text='Charged in the asset, out of the amount', low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='withdrawalnetwork',
        name='minimum',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=0, low=Decimal('0'), max_digits=38),
    ),
    migrations.AlterField(
        model_name='withdrawalnetwork',
        name='step',
        field=bots.models.fields.ExactDecimalField(decimal_places=18, default=Decimal('1E-8'), help_text='Withdrawal precision, a power of ten', max_digits=38),
    ),
]


class Migration(migrations.Migration):
    dependencies = [
        ("bots", "0009_dead_man_switch"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=STATE),
        migrations.RunPython(to_exact_text, to_numeric),
    ]
