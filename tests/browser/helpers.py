"""Steps the browser tests share."""


def log_in(page, username: str, password: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def connect_llm(page, api_key: str) -> None:
    """Connect LLM in the admin (Dainese, org-dainese, this key, publishing to the sandbox), then
    press Test connection."""
    page.goto("/admin/connectors/connector/add/")
    page.get_by_label("OpenAI ChatGPT Enterprise").check()
    page.select_option("#id_tenant", label="Dainese")
    page.fill("#id_organization_id", "org-dainese")
    page.fill("#id_api_key", api_key)
    # The form starts on building GPTs by hand (a real workspace); the sandbox publishes them.
    page.select_option("#id_publish_mode", "automated")
    page.click("input[name=_continue]")
    page.get_by_role("button", name="Test connection").click()
