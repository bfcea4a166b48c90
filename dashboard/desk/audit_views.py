"""The audit log, filterable and exportable as CSV; and CSV exports of fills, hedges and
transfers. Exports stream, so a year of fills never sits in memory at once."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from bots.models import AuditEntry, Market
from dashboard.forms import RefusesControlCharacters

PAGE_SIZE = 50
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class PeriodForm(RefusesControlCharacters, forms.Form):
    market = forms.ModelChoiceField(
        queryset=Market.objects.order_by("symbol"), to_field_name="slug", required=False, empty_label="all markets"
    )
    since = forms.DateField(required=False, help_text="From this day (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, help_text="To this day, included (UTC)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The first day comes after the last one.")
        return data

    def period(self, field: str) -> Q:
        """The chosen days as a filter on a datetime field, whole UTC days."""
        q = Q()
        if self.cleaned_data.get("since"):
            q &= Q(**{f"{field}__gte": _midnight(self.cleaned_data["since"])})
        if self.cleaned_data.get("until"):
            q &= Q(**{f"{field}__lt": _midnight(self.cleaned_data["until"] + dt.timedelta(days=1))})
        return q


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


class AuditFilterForm(PeriodForm):
    action = forms.ChoiceField(required=False)
    actor = forms.CharField(required=False, max_length=150)
    q = forms.CharField(required=False, max_length=200, label="Text", help_text="In the subject or reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
        self.fields["action"].choices = [("", "all actions"), *((a, a) for a in actions)]

    def entries(self) -> QuerySet[AuditEntry]:
        data = self.cleaned_data
        rows = AuditEntry.objects.select_related("market").filter(self.period("at"))
        if data.get("market"):
            rows = rows.filter(market=data["market"])
        if data.get("action"):
            rows = rows.filter(action=data["action"])
        if data.get("actor"):
            rows = rows.filter(actor__iexact=data["actor"].strip())
        if data.get("q"):
            rows = rows.filter(Q(subject__icontains=data["q"]) | Q(reason__icontains=data["q"]))
        return rows.order_by("-at", "-id")


@require_GET
@login_required
def audit(request):
    form = AuditFilterForm(request.GET or None)
    exports = {"export_form": PeriodForm(), "exports": export_kinds()}
    if request.GET and not form.is_valid():
        return render(request, "audit.html", {"form": form, "page": None, **exports}, status=400)
    rows = form.entries() if request.GET else AuditEntry.objects.select_related("market").order_by("-at", "-id")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), **exports}
    if request.htmx:
        return render(request, "partials/audit_rows.html", context)
    return render(request, "audit.html", context)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="ballast-{filename}-{stamp}.csv"'
    return response


@require_GET
@login_required
def audit_csv(request):
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "page": None, "export_form": PeriodForm(), "exports": export_kinds()}
        return render(request, "audit.html", context, status=400)
    header = ["at", "actor", "action", "market", "subject", "reason", "details"]
    rows = (
        [e.at, e.actor, e.action, e.market.symbol if e.market else "", e.subject, e.reason, e.details]
        for e in form.entries().iterator(chunk_size=2000)
    )
    return csv_response("audit", header, rows)


# Each export: the model (app label, name), its market path, and the datetime field its days filter.
EXPORTS = {
    "fills": ("Fill", "market", "recorded_at"),
    "hedges": ("Hedge", "fill__market", "created_at"),
    "transfers": ("TransferProposal", "market", "created_at"),
}


def _model_rows(rows: QuerySet, market_path: str) -> tuple[list[str], Iterator[list]]:
    """Every stored column of the model (foreign keys as ids), after the market's symbol: the
    exports keep up with the models as they grow, with no list of columns to forget."""
    fields = rows.model._meta.concrete_fields
    header = ["market", *(f.attname for f in fields)]
    annotated = rows.annotate(export_market=F(f"{market_path}__symbol")).order_by("pk")
    body = (
        [row.export_market, *(getattr(row, f.attname) for f in fields)]
        for row in annotated.iterator(chunk_size=2000)
    )
    return header, body


def export_kinds() -> list[str]:
    """The exports whose records this installation keeps."""
    kinds = []
    for kind, (name, _, _) in EXPORTS.items():
        try:
            apps.get_model("bots", name)
        except LookupError:
            continue
        kinds.append(kind)
    return kinds


@require_GET
@login_required
def export_csv(request, kind: str):
    if kind not in EXPORTS:
        raise Http404("no such export")
    name, market_path, day_field = EXPORTS[kind]
    try:
        model = apps.get_model("bots", name)
    except LookupError:
        raise Http404(f"Ballast keeps no {kind} yet") from None
    form = PeriodForm(request.GET)
    if not form.is_valid():
        context = {"form": AuditFilterForm(), "export_form": form, "exports": export_kinds(), "page": None}
        return render(request, "audit.html", context, status=400)
    rows = model.objects.filter(form.period(day_field))
    if form.cleaned_data.get("market"):
        rows = rows.filter(**{market_path: form.cleaned_data["market"]})
    header, body = _model_rows(rows, market_path)
    return csv_response(kind, header, body)
