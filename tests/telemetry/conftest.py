"""Hub tokens and hub API clients for the telemetry tests; each test starts with an empty cache."""

import pytest
from rest_framework.test import APIClient

from telemetry.hub.services import hub_token_issue
from tests.telemetry.app_connection.https_server import HttpsDocuments, make_certificates


@pytest.fixture
def issued(tenant):
    return hub_token_issue(tenant=tenant)


@pytest.fixture
def other_issued(other_tenant):
    return hub_token_issue(tenant=other_tenant)


@pytest.fixture
def hub(issued):
    """An API client authenticated with the `dainese` tenant's hub token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return client


@pytest.fixture
def other_hub(other_issued):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_issued.plaintext}")
    return client


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the shared cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def tls_certificates(tmp_path_factory):
    """A CA and a `localhost` certificate it signed, made for this run."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def https_server(tls_certificates):
    _, cert_file, key_file = tls_certificates
    with HttpsDocuments(cert_file, key_file) as server:
        yield server


@pytest.fixture
def documents(https_server, tls_certificates, settings):
    """The HTTPS server on loopback, emptied, that Client ID Metadata Documents may be fetched
    from during this test only (the test-only settings name its host and CA)."""
    settings.MCP_CIMD_TEST_HOSTS = ["localhost"]
    settings.MCP_CIMD_TEST_CA_FILE = str(tls_certificates[0])
    https_server.documents.clear()
    https_server.hits.clear()
    return https_server
