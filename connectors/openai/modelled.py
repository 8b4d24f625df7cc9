"""Every OpenAI path Claresia calls, in one module.

`audit_logs` is OpenAI's published endpoint (its `gpt.*` event types are modelled). The GPT,
file and sharing calls are **modelled** (`shared/contracts/openai-enterprise-api.md`): OpenAI
publishes no endpoint that creates a Custom GPT, so these are the only lines to repoint when
it does. The real Compliance API (Logs Platform, GPT inventory) is `compliance.py`.
"""

from collections.abc import Iterable, Iterator

from connectors.openai.client import OpenAIClient

AUDIT_LOGS = "organization/audit_logs"
FILES = "files"
GPTS = "organization/gpts"  # modelled


def _audit_log_query(
    *,
    event_types: Iterable[str] = (),
    effective_at: dict[str, int] | None = None,
    limit: int = 100,
    after: str | None = None,
) -> list[tuple[str, str | int]]:
    # OpenAI's encoding: repeated `event_types[]`, ranges as `effective_at[gte]`.
    query: list[tuple[str, str | int]] = [("event_types[]", t) for t in event_types]
    query += [(f"effective_at[{op}]", value) for op, value in sorted((effective_at or {}).items())]
    query.append(("limit", limit))
    if after:
        query.append(("after", after))
    return query


def audit_logs_page(client: OpenAIClient, **query) -> dict:
    """One page of audit logs, newest first."""
    return client.request("GET", AUDIT_LOGS, params=_audit_log_query(**query))


def audit_logs_pages(client: OpenAIClient, **query) -> Iterator[dict]:
    """Every page of audit logs matching `query`, following `has_more` to the end."""
    return client.paginate(AUDIT_LOGS, _audit_log_query(**query))


# modelled (openai-enterprise-api.md → Custom GPT publish)
def file_upload(client: OpenAIClient, *, filename: str, content: bytes, media_type: str) -> dict:
    return client.request(
        "POST",
        FILES,
        files={"file": (filename, content, media_type)},
        data={"purpose": "assistants"},
    )


# modelled (openai-enterprise-api.md → Custom GPT publish)
def gpt_find_by_name(client: OpenAIClient, name: str) -> dict | None:
    for page in client.paginate(GPTS, [("name", name), ("limit", 100)]):
        for gpt in page.get("data", []):
            if gpt.get("name") == name:
                return gpt
    return None


# modelled (openai-enterprise-api.md → Custom GPT publish)
def gpt_get(client: OpenAIClient, gpt_id: str) -> dict:
    return client.request("GET", f"{GPTS}/{gpt_id}")


# modelled (openai-enterprise-api.md → Custom GPT publish)
def gpt_create(client: OpenAIClient, config: dict) -> dict:
    return client.request("POST", GPTS, json_body=config)


# modelled (openai-enterprise-api.md → Custom GPT publish)
def gpt_update(client: OpenAIClient, gpt_id: str, config: dict) -> dict:
    return client.request("POST", f"{GPTS}/{gpt_id}", json_body=config)


# modelled (openai-enterprise-api.md → Custom GPT publish)
def gpt_delete(client: OpenAIClient, gpt_id: str) -> dict:
    return client.request("DELETE", f"{GPTS}/{gpt_id}")


# modelled (openai-enterprise-api.md → Custom GPT publish)
def gpt_share(client: OpenAIClient, gpt_id: str, group_ids: list[str]) -> dict:
    return client.request(
        "PUT",
        f"{GPTS}/{gpt_id}/sharing",
        json_body={"visibility": "groups", "group_ids": list(group_ids)},
    )


# modelled (openai-enterprise-api.md → Custom GPT publish)
def gpt_unshare(client: OpenAIClient, gpt_id: str) -> dict:
    return client.request(
        "PUT", f"{GPTS}/{gpt_id}/sharing", json_body={"visibility": "private", "group_ids": []}
    )
