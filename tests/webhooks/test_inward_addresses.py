"""Server-side request forgery through IPv6 spellings of IPv4 (issue 14, section 5).

With private targets refused (production), webhook and partner URLs whose host is an IPv6
address carrying an IPv4 one — mapped, NAT64, 6to4, IPv4-compatible — or a site-local address
are refused when saved, over GraphQL, and nothing is stored; the dispatcher asks the same
question of resolved names before each send.
"""

from __future__ import annotations

import ipaddress
from typing import Final

import pytest

from casegraph.services.webhooks import is_public
from casegraph.settings import RateLimits, Settings
from models import PartnerAgency, WebhookEndpoint
from tests.conftest import TEST_SECRET
from tests.helpers import GraphQLClient, World

CREATE_WEBHOOK_MUTATION = """mutation Create($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id } errors { code field } }
}"""
CREATE_PARTNER_MUTATION = """mutation Create($input: CreatePartnerAgencyInput!) {
  createPartnerAgency(input: $input) { partner { code } errors { code field } }
}"""
INWARD_HOSTS: Final = [
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:10.0.0.5]",
    "[64:ff9b::127.0.0.1]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:7f00:1::]",
    "[2002:a00:5::1]",
    "[::127.0.0.1]",
    "[::a00:5]",
    "[fec0::1]",
]


@pytest.fixture
def settings() -> Settings:
    return Settings(jwt_secret=TEST_SECRET, rate_limits=RateLimits.off(), env="production", metrics_token="m" * 32)


@pytest.mark.parametrize("host", INWARD_HOSTS)
async def test_a_webhook_to_an_ipv6_form_of_an_inward_address_is_refused(
    client: GraphQLClient, world: World, settings: Settings, host: str
) -> None:
    # when
    created = await client.data(
        CREATE_WEBHOOK_MUTATION, {"input": {"url": f"http://{host}:8080/hook"}}, token=world.token(settings, "admin")
    )
    # then
    assert created["createWebhookEndpoint"] == {
        "endpoint": None,
        "errors": [{"code": "VALIDATION_FAILED", "field": "url"}],
    }
    assert await WebhookEndpoint.all().count() == 0


@pytest.mark.parametrize("host", INWARD_HOSTS)
async def test_a_partner_at_an_ipv6_form_of_an_inward_address_is_refused(
    client: GraphQLClient, world: World, settings: Settings, host: str
) -> None:
    # when
    created = await client.data(
        CREATE_PARTNER_MUTATION,
        {"input": {"code": "HOUSING", "name": "Housing", "graphqlUrl": f"https://{host}/graphql"}},
        token=world.token(settings, "admin"),
    )
    # then
    assert created["createPartnerAgency"]["partner"] is None
    assert created["createPartnerAgency"]["errors"][0]["code"] == "VALIDATION_FAILED"
    assert await PartnerAgency.all().count() == 0


def test_public_ipv4_and_ipv6_addresses_stay_allowed() -> None:
    assert [is_public(ipaddress.ip_address(a)) for a in ("93.184.216.34", "2606:2800:220:1::1")] == [True, True]
