import pytest
from django.core.management import CommandError, call_command

from telemetry.hub.models import HubToken
from telemetry.hub.services import hub_token_authenticate, hub_token_issue, hub_tokens_revoke

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_a_peppered_digest(tenant, settings):
    # given
    settings.HUB_TOKEN_PEPPER = "pepper-for-tests"

    # when
    issued = hub_token_issue(tenant=tenant)

    # then
    row = HubToken.objects.get()
    stored = " ".join(str(value) for value in HubToken.objects.values_list().get())
    assert issued.plaintext not in stored
    assert issued.plaintext.split("_", 2)[2] not in stored
    assert len(row.digest) == 64 and row.last4 == issued.plaintext[-4:]


def test_a_token_authenticates_to_its_tenant_and_records_its_use(tenant):
    # given
    issued = hub_token_issue(tenant=tenant)

    # when
    token = hub_token_authenticate(plaintext=issued.plaintext)

    # then
    assert token.tenant == tenant
    assert HubToken.objects.get().last_used_at is not None


def test_a_changed_pepper_invalidates_tokens(tenant, settings):
    # given
    settings.HUB_TOKEN_PEPPER = "first"
    issued = hub_token_issue(tenant=tenant)

    # when
    settings.HUB_TOKEN_PEPPER = "second"

    # then
    assert hub_token_authenticate(plaintext=issued.plaintext) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        str.upper,
        lambda t: t.replace("_", "_\x00", 1),
        lambda t: t[:6] + "\x00" + t[7:],
    ],
)
def test_a_tampered_token_does_not_authenticate(tenant, mangle):
    # given
    issued = hub_token_issue(tenant=tenant)

    # when / then
    assert hub_token_authenticate(plaintext=mangle(issued.plaintext)) is None


def test_a_revoked_token_does_not_authenticate(tenant):
    # given
    issued = hub_token_issue(tenant=tenant)

    # when
    revoked = hub_tokens_revoke(tokens=HubToken.objects.all())

    # then
    assert revoked == 1
    assert hub_token_authenticate(plaintext=issued.plaintext) is None


def test_issue_hub_token_prints_the_token_alone_and_once(tenant, capsys):
    # when
    call_command("issue_hub_token", "--tenant", tenant.slug, "--name", "GPTs")

    # then
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    plaintext = out.strip()
    assert hub_token_authenticate(plaintext=plaintext).tenant == tenant
    assert HubToken.objects.get().name == "GPTs"


def test_issue_hub_token_for_an_unknown_tenant_fails_with_one_line(db):
    # when / then
    with pytest.raises(CommandError, match="no tenant with slug 'nobody'"):
        call_command("issue_hub_token", "--tenant", "nobody")
    assert HubToken.objects.count() == 0
