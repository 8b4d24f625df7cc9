"""The connector's optional ChatGPT app id (`asdk_app_…`): validated when set, learned by the
Logs Platform poll only when none is set."""

import pytest
from django.core.exceptions import ValidationError

from connectors.selectors import connector_of
from connectors.services import connector_app_id_learn, connector_connect
from tests.factories import COMPLIANCE_KEY


def connect(tenant, **extra):
    return connector_connect(
        tenant=tenant, organization_id="org-dainese", api_key=COMPLIANCE_KEY, **extra
    )


def test_an_app_id_is_stored_when_it_is_an_apps_sdk_id(tenant):
    # when
    connector = connect(tenant, app_id=" asdk_app_68a1b2c3 ")

    # then
    assert connector.app_id == "asdk_app_68a1b2c3"


@pytest.mark.parametrize(
    "bad", ["app_123", "asdk_app_", "asdk_app_has space", "asdk_app_" + "x" * 56]
)
def test_a_malformed_app_id_is_refused_and_nothing_saved(tenant, bad):
    # when / then
    with pytest.raises(ValidationError, match="asdk_app_"):
        connect(tenant, app_id=bad)
    assert connector_of(tenant=tenant) is None


def test_a_learned_app_id_never_replaces_the_admins(tenant):
    # given
    connect(tenant, app_id="asdk_app_admins")

    # when
    learned = connector_app_id_learn(tenant=tenant, app_id="asdk_app_seen")

    # then
    assert learned is False
    assert connector_of(tenant=tenant).app_id == "asdk_app_admins"


def test_an_app_id_is_learned_when_none_is_set_and_only_when_well_formed(tenant):
    # given
    connect(tenant)

    # when
    refused = connector_app_id_learn(tenant=tenant, app_id="not-an-app-id")
    learned = connector_app_id_learn(tenant=tenant, app_id="asdk_app_seen")

    # then
    assert (refused, learned) == (False, True)
    assert connector_of(tenant=tenant).app_id == "asdk_app_seen"
