"""A transfer card on the rebalance panel reads its amount like the rest of the page (grouped,
at the asset's decimals: 48,230.36 USDT), with the exact amount kept in its title; the Sent
box keeps the exact figure, to be typed over."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bots.treasury import rebalancing

pytestmark = pytest.mark.django_db


@pytest.fixture
def usdt_proposal(rebalance_market, operator):
    done = rebalancing.propose(
        operator, rebalance_market.hedge_account.pk, rebalance_market.mm_account.pk,
        "USDT", "TRC20", "48230.361523", "refill the quote side",
    )
    return done.proposal


def test_a_proposals_amount_reads_grouped_at_the_assets_decimals(client, viewer, usdt_proposal):
    client.force_login(viewer)

    page = client.get(reverse("rebalance")).content.decode()

    assert '<strong class="amount" title="48230.361523 USDT exactly">48,230.36 USDT</strong>' in page
    assert "48230.361523 USDT</strong>" not in page
    assert "fee 1.00," in page


def test_a_sent_transfer_says_what_was_sent_the_same_way(client, operator, second_operator, usdt_proposal):
    rebalancing.approve(usdt_proposal.pk, second_operator)
    rebalancing.record_sent(usdt_proposal.pk, second_operator, "48230.361523", "1", "0x1234")
    client.force_login(operator)

    page = client.get(reverse("rebalance")).content.decode()

    assert ": 48,230.36 USDT, fee 1.00, tx" in page
