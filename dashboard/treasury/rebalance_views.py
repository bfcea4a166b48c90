"""The rebalance panel: inventory, exposure and runway; the transfers proposed, approved, on
their way and done, with the actions each person may take on them; and the admin's settings
(bands, policies, withdrawal networks, the whitelist; the exchanges' withdrawal terms are
network_terms_views).

A view renders the whole page, or the panel alone for htmx (the page swaps it in whenever the
websocket says a proposal changed). Every POST also works without JavaScript by redirecting
with a message. The commands themselves are bots.treasury.rebalancing and bots.treasury.withdrawals.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from bots.desk import four_eyes
from bots.desk.audit import record
from bots.desk.roles import ADMIN, OPERATOR, has_role, role_required
from bots.engine.figures import duration, plain
from bots.engine.treasury.runway import projection
from bots.models import (
    InventoryBand,
    RebalancePolicy,
    TransferApproval,
    TransferProposal,
    WhitelistAddress,
    WithdrawalNetwork,
)
from bots.treasury import rebalancing, withdrawals
from bots.treasury.inventory import Position, account_label, read_inventory
from bots.treasury.tasks import plan_rebalance
from dashboard.forms import errors_text
from dashboard.live.rebalance_push import publish_rebalance
from dashboard.treasury.network_terms_views import terms_context
from dashboard.treasury.rebalance_forms import (
    BandForm,
    NetworkForm,
    PolicyForm,
    ProposeForm,
    SentForm,
    WhitelistForm,
)

P = TransferProposal
HISTORY = 20
PANEL_CHANGED = "rebalance-changed"  # the event the panel refreshes on (rebalance.html)


# --- the panel --------------------------------------------------------------------------------


@require_GET
@login_required
def rebalance(request):
    context = panel_context(request)
    if request.htmx:
        return render(request, "partials/rebalance_panel.html", context)
    return render(request, "rebalance.html", context)


def panel_context(request) -> dict:
    user = request.user
    inventory = read_inventory()
    transfers = P.objects.select_related(
        "source__venue", "destination__venue", "proposed_by", "sent_by", "completed_by"
    ).prefetch_related(
        Prefetch("approvals", queryset=TransferApproval.objects.select_related("user"))
    )
    is_operator = has_role(user, OPERATOR)
    open_ = [_row(p, user, is_operator) for p in transfers.filter(state__in=P.OPEN).order_by("pk")]
    flying = [
        _row(p, user, is_operator)
        for p in transfers.filter(state__in=P.IN_FLIGHT).order_by("sent_at", "pk")
    ]
    return {
        "is_operator": is_operator,
        "is_admin": has_role(user, ADMIN),
        "open": open_,
        "in_flight": flying,
        "history": transfers.filter(state__in=P.FINAL).order_by("-updated_at", "-pk")[:HISTORY],
        "alerts": _alerts(inventory, open_ + flying),
        "groups": _inventory_groups(inventory),
        "exposures": inventory.exposures,
        "missing": inventory.missing,
        "propose_form": ProposeForm(),
        "now": timezone.now(),
    }


def _row(p: TransferProposal, user, is_operator: bool) -> dict:
    approvals = list(p.approvals.all())
    mine = p.proposed_by_id == user.pk
    approved_by_me = any(a.user_id == user.pk for a in approvals)
    late = p.state == P.SENT and p.expected_by() and timezone.now() > p.expected_by()
    return {
        "p": p,
        "approvals": approvals,
        "mine": mine,
        "approved_by_me": approved_by_me,
        "can_approve": is_operator and p.state == P.PROPOSED and not mine and not approved_by_me,
        "can_reject": is_operator and p.state in P.OPEN,
        "can_cancel": p.state in P.OPEN and (mine or has_role(user, ADMIN)),
        "can_send": is_operator and p.state == P.APPROVED,
        "address": withdrawals.usable_address(p) if p.state == P.APPROVED else None,
        "can_confirm": is_operator and p.state == P.SENT,
        "late": late,
        "bars": [
            _bar("from", p.source, p.balances.get("source") or {}, p.asset),
            _bar("to", p.destination, p.balances.get("destination") or {}, p.asset),
        ],
    }


def _bar(direction: str, account, figures: dict, asset: str) -> dict:
    """A before/after bar against the band: positions as percentages of one common scale."""
    band = [Decimal(x) for x in figures.get("band") or []]
    before, after = Decimal(figures.get("before", "0")), Decimal(figures.get("after", "0"))
    top = max([before, after, *band, Decimal("0.000001")]) * Decimal("1.15")

    def pct(x: Decimal) -> float:
        return round(float(x / top * 100), 2)

    return {
        "direction": direction,
        "label": account_label(account),
        "asset": asset,
        "before": before,
        "after": after,
        "band": band,
        "before_pct": pct(before),
        "after_pct": pct(after),
        "band_left": pct(band[0]) if band else 0,
        "band_width": pct(band[2] - band[0]) if band else 0,
        "target_pct": pct(band[1]) if band else 0,
    }


def _alerts(inventory, rows: list[dict]) -> list[dict]:
    """What needs someone, each with the action to take from here."""
    alerts = []
    for position in inventory.positions:
        if position.band is None or not position.runway_short:
            continue
        answer = next(
            (
                r["p"]
                for r in rows
                if r["p"].destination_id == position.account.pk and r["p"].asset == position.asset
            ),
            None,
        )
        alerts.append(
            {
                "text": f"{position.label} runs out of {position.asset} in {duration(position.runway)}",
                "action": (
                    {P.PROPOSED: "review proposal", P.APPROVED: "send transfer"}.get(
                        answer.state, "follow transfer"
                    )
                    + f" #{answer.pk}"
                    if answer
                    else "no proposal yet: plan now, or propose one by hand"
                ),
                "href": f"#transfer-{answer.pk}" if answer else "#propose",
            }
        )
    for row in rows:
        if row["late"]:
            p = row["p"]
            minutes = int((timezone.now() - p.expected_by()).total_seconds() // 60)
            alerts.append(
                {
                    "text": f"Transfer #{p.pk} ({plain(p.amount)} {p.asset}) is "
                    f"{minutes} min past its expected arrival",
                    "action": "check the venue, then confirm the arrival or mark it failed",
                    "href": f"#transfer-{p.pk}",
                }
            )
    return alerts


def _inventory_groups(inventory) -> list[dict]:
    groups = []
    for asset in sorted({p.asset for p in inventory.positions}):
        rows = [p for p in inventory.positions if p.asset == asset]
        groups.append({"asset": asset, "rows": [_position(p) for p in rows]})
    return groups


def _position(p: Position) -> dict:
    band = p.band
    row = {"p": p, "bar": None, "chart": None}
    if band is not None:
        top = max(p.position, band.maximum, Decimal("0.000001")) * Decimal("1.15")
        row["bar"] = {
            "band_left": round(float(band.minimum / top * 100), 2),
            "band_width": round(float((band.maximum - band.minimum) / top * 100), 2),
            "target_pct": round(float(band.target / top * 100), 2),
            "at_pct": round(float(p.position / top * 100), 2),
        }
        row["chart"] = runway_chart(p)
    return row


CHART_W, CHART_H = 240, 64


def runway_chart(p: Position) -> dict:
    """The projected holding over twice the alert threshold, as SVG coordinates."""
    hours = p.alert_hours * 2
    line = projection(p.position, p.flow_per_hour, hours, points=25)
    highest = max(amount for _, amount in line)
    top = max(highest, p.band.maximum if p.band else 0, Decimal("0.000001")) * Decimal("1.1")

    def x(hour: Decimal) -> float:
        return round(float(hour / hours) * CHART_W, 1)

    def y(amount: Decimal) -> float:
        return round(CHART_H - float(amount / top) * CHART_H, 1)

    return {
        "w": CHART_W,
        "h": CHART_H,
        "hours": hours,
        "points": " ".join(f"{x(h)},{y(a)}" for h, a in line),
        "max_y": y(p.band.maximum) if p.band else None,
        "band_h": round(y(p.band.minimum) - y(p.band.maximum), 1) if p.band else None,
        "alert_x": x(p.alert_hours),
        "runs_out_x": x(p.runway) if p.runway is not None and p.runway <= hours else None,
    }


# --- operator actions -------------------------------------------------------------------------


def _answer(request, done=None, error: Exception | None = None, anchor: str = ""):
    """For htmx, the outcome alone, for the note outside the panel, and a nudge for the panel
    to fetch itself once the note is in; otherwise a redirect carrying it as a message.

    Not the panel itself: the live refresh the action set off may replace the panel before this
    answer arrives, and an answer swapped into the replaced panel would be lost (taking the
    inputs hx-preserve moves with it).
    """
    if error is not None:
        note, ok = str(error), False
        status = 409 if isinstance(error, rebalancing.TransferConflict) else 400
    else:
        note, ok, status = done, True, 200
    if request.htmx:
        response = render(
            request, "partials/rebalance_note.html", {"note": note, "ok": ok}, status=status
        )
        # After the swap, so that it reaches the page (from the body) even when the form that
        # asked is gone with a panel refreshed meanwhile.
        response["HX-Trigger-After-Swap"] = PANEL_CHANGED
        return response
    (messages.success if ok else messages.error)(request, note)
    return redirect(reverse("rebalance") + anchor)


def _run(request, command, *args, anchor: str = ""):
    try:
        done = command(*args)
    except rebalancing.TransferError as exc:
        return _answer(request, error=exc, anchor=anchor)
    return _answer(request, done.message if hasattr(done, "message") else done, anchor=anchor)


def _decide(request, pk: int, command):
    """An operator's decision on a proposal, with the comment the form carries."""
    return _run(
        request, command, pk, request.user, request.POST.get("comment", ""), anchor=f"#transfer-{pk}"
    )


@require_POST
@login_required
@role_required(OPERATOR)
def approve(request, pk: int):
    return _run(
        request, rebalancing.approve, pk, request.user, request.POST.get("comment", ""),
        request.POST.get("code", ""), anchor=f"#transfer-{pk}",
    )


@require_POST
@login_required
@role_required(OPERATOR)
def reject(request, pk: int):
    return _decide(request, pk, rebalancing.reject)


@require_POST
@login_required
@role_required(OPERATOR)
def cancel(request, pk: int):
    return _decide(request, pk, rebalancing.cancel)


@require_POST
@login_required
@role_required(OPERATOR)
def record_sent(request, pk: int):
    form = SentForm(request.POST)
    if not form.is_valid():
        return _answer(
            request, error=rebalancing.TransferError(errors_text(form)), anchor=f"#transfer-{pk}"
        )
    data = form.cleaned_data
    return _run(
        request,
        rebalancing.record_sent,
        pk,
        request.user,
        data["amount"],
        data["fee"],
        data["txid"],
        anchor=f"#transfer-{pk}",
    )


@require_POST
@login_required
@role_required(OPERATOR)
def execute(request, pk: int):
    try:
        done = withdrawals.execute(pk, request.user)
    except withdrawals.WithdrawalRetry as exc:
        return _answer(
            request,
            error=rebalancing.TransferError(
                f"The venue did not answer ({exc}); the transfer is still approved: try again."
            ),
            anchor=f"#transfer-{pk}",
        )
    except rebalancing.TransferError as exc:
        return _answer(request, error=exc, anchor=f"#transfer-{pk}")
    return _answer(request, done.message, anchor=f"#transfer-{pk}")


@require_POST
@login_required
@role_required(OPERATOR)
def confirm(request, pk: int):
    return _decide(request, pk, rebalancing.confirm_arrival)


@require_POST
@login_required
@role_required(OPERATOR)
def fail(request, pk: int):
    return _decide(request, pk, rebalancing.mark_failed)


@require_POST
@login_required
@role_required(OPERATOR)
def propose(request):
    form = ProposeForm(request.POST)
    if not form.is_valid():
        return _answer(
            request, error=rebalancing.TransferError(errors_text(form)), anchor="#propose"
        )
    d = form.cleaned_data
    return _run(
        request,
        rebalancing.propose,
        request.user,
        d["source"].pk,
        d["destination"].pk,
        d["asset"],
        d["network"],
        d["amount"],
        d["reason"],
        anchor="#propose",
    )


@require_POST
@login_required
@role_required(OPERATOR)
def plan_now(request):

    made = plan_rebalance()
    record("rebalance planned", user=request.user, reason="planner run by hand", proposals=made)
    return _answer(request, f"Planner ran: {made} new proposal{'s' if made != 1 else ''}.")


# --- admin settings ---------------------------------------------------------------------------


@require_GET
@login_required
def settings_page(request):
    return render(request, "rebalance_settings.html", settings_context(request))


def settings_context(request, forms: dict | None = None) -> dict:
    forms = forms or {}
    return {
        "is_admin": has_role(request.user, ADMIN),
        "bands": InventoryBand.objects.select_related("account__venue", "market").order_by(
            "account_id", "asset"
        ),
        "policies": RebalancePolicy.objects.order_by("asset"),
        "networks": WithdrawalNetwork.objects.select_related("venue").order_by(
            "venue_id", "asset", "network"
        ),
        "whitelist": WhitelistAddress.objects.select_related(
            "account__venue", "added_by", "removed_by"
        ).order_by("removed_at", "account_id", "asset"),
        "now": timezone.now(),
        "band_form": forms.get("band") or BandForm(),
        "policy_form": forms.get("policy") or PolicyForm(),
        "network_form": forms.get("network") or NetworkForm(),
        "whitelist_form": forms.get("whitelist") or WhitelistForm(),
    } | terms_context(request)


def _snapshot(instance, fields) -> dict | None:
    if instance is None or not instance.pk:
        return None
    values = {f: getattr(instance, f) for f in fields}
    return {f: plain(v) if isinstance(v, Decimal) else str(v) for f, v in values.items()}


def _key(form_class, data, names: tuple[str, ...]) -> dict | None:
    """The row a settings form names (e.g. account and asset), or None while it names none."""
    fields = form_class().fields
    key = {}
    for name in names:
        try:
            value = fields[name].clean(fields[name].widget.value_from_datadict(data, None, name))
        except ValidationError:
            return None
        key[name] = value.strip().upper() if isinstance(value, str) else value
    return key


def _save_setting(request, form_class, key_fields: tuple[str, ...], name: str, kind: str):
    """Create or change one settings row, keyed by `key_fields`; audited with before and after."""
    model = form_class._meta.model
    key = _key(form_class, request.POST, key_fields)
    existing = model.objects.filter(**key).first() if key is not None else None
    form = form_class(request.POST, instance=existing)
    fields = list(form_class._meta.fields)
    before = _snapshot(existing, fields)
    if not form.is_valid():
        # Shown again with the errors beside the fields and what was typed kept.
        messages.error(request, errors_text(form))
        return render(
            request, "rebalance_settings.html", settings_context(request, {kind: form}), status=400
        )
    with transaction.atomic():
        row = form.save()
        record(
            f"{name} saved",
            user=request.user,
            subject=f"{name} {row.pk}",
            reason=str(row),
            before=before,
            after=_snapshot(row, fields),
        )

    transaction.on_commit(lambda: publish_rebalance(None))
    messages.success(request, f"Saved: {row}.")
    return redirect("rebalance-settings")


@require_POST
@login_required
@role_required(ADMIN)
def save_band(request):
    return _save_setting(request, BandForm, ("account", "asset"), "band", "band")


@require_POST
@login_required
@role_required(ADMIN)
def save_policy(request):
    """A policy is what protects money: one admin proposes it, another confirms it on the
    change requests page (bots.desk.four_eyes)."""
    key = _key(PolicyForm, request.POST, ("asset",))
    existing = RebalancePolicy.objects.filter(**key).first() if key is not None else None
    form = PolicyForm(request.POST, instance=existing)
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return render(
            request, "rebalance_settings.html", settings_context(request, {"policy": form}),
            status=400,
        )
    values = {f: form.cleaned_data[f] for f in PolicyForm._meta.fields if f != "asset"}
    try:
        change = four_eyes.propose_policy(
            request.user, form.cleaned_data["asset"], values, request.POST.get("reason", "")
        )
    except four_eyes.ChangeRefused as exc:
        messages.error(request, str(exc))
        return redirect("rebalance-settings")
    messages.success(
        request, f"Proposed change #{change.pk}: another admin must confirm it on the change "
        "requests page before it applies."
    )
    return redirect("changes")


@require_POST
@login_required
@role_required(ADMIN)
def save_network(request):
    return _save_setting(
        request, NetworkForm, ("venue", "asset", "network"), "withdrawal network", "network"
    )


@require_POST
@login_required
@role_required(ADMIN)
def delete_band(request, pk: int):
    with transaction.atomic():
        band = InventoryBand.objects.select_related("account__venue").filter(pk=pk).first()
        if band is None:
            messages.error(request, "That band is gone already.")
            return redirect("rebalance-settings")
        record(
            "band deleted",
            user=request.user,
            subject=f"band {pk}",
            reason=str(band),
            before=_snapshot(band, ["minimum", "target", "maximum", "reserve", "unit"]),
        )
        band.delete()
    messages.success(request, f"Deleted the band: {band}.")
    return redirect("rebalance-settings")


@require_POST
@login_required
@role_required(ADMIN)
def add_whitelist(request):
    form = WhitelistForm(request.POST)
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return redirect("rebalance-settings")
    d = form.cleaned_data
    try:
        entry = withdrawals.add_address(
            request.user,
            d["account"].pk,
            d["asset"],
            d["network"],
            d["address"],
            d["tag"],
            d["label"],
        )
    except rebalancing.TransferError as exc:
        messages.error(request, str(exc))
        return redirect("rebalance-settings")
    messages.success(
        request,
        f"Whitelisted {entry.address}: a second admin must confirm it; its cooling period "
        f"({withdrawals.cooling_period()}) starts then.",
    )
    return redirect("rebalance-settings")


@require_POST
@login_required
@role_required(ADMIN)
def confirm_whitelist(request, pk: int):
    try:
        entry = withdrawals.confirm_address(request.user, pk)
    except rebalancing.TransferError as exc:
        messages.error(request, str(exc))
        return redirect("rebalance-settings")
    messages.success(
        request, f"Confirmed {entry.address}: usable from {entry.usable_from:%Y-%m-%d %H:%M} UTC."
    )
    return redirect("rebalance-settings")


@require_POST
@login_required
@role_required(ADMIN)
def remove_whitelist(request, pk: int):
    try:
        entry = withdrawals.remove_address(request.user, pk)
    except rebalancing.TransferError as exc:
        messages.error(request, str(exc))
        return redirect("rebalance-settings")
    messages.success(request, f"Removed {entry.address} from the whitelist.")
    return redirect("rebalance-settings")
