"""Claresia's rules that every target appends to a skill's own prompt (seed Part 3 and End-user
experience): ask for the inputs as a form, record the output to the hub, end with the footer.

One text for every target: only how the hub is called differs (a GPT action, a plugin's tool).
Pure: the same IR gives the same text.
"""

HUB_OPERATION_ID = "emit_hub_record"
# The Claresia app's one name: the hub's MCP server as a plugin declares it and ChatGPT lists it
# (its name), and as ChatGPT shows it (its title; an APP_LOG line's `app_name` may be either).
HUB_APP_NAME = "claresia-hub"
HUB_APP_TITLE = "Claresia hub"
RULES_HEADING = "## Claresia rules (always follow them)"
TYPE_LABELS = {
    "string": "text (one line)",
    "text": "text (several lines)",
    "integer": "whole number",
    "number": "number",
    "boolean": "yes / no",
    "date": "date (YYYY-MM-DD)",
    "enum": "one of the choices",
}
# How each target reaches the hub's `emit_hub_record` operation (hub-records-api.md).
GPT_HUB_CALL = f"`claresia.emit_hub_record` (action operation `{HUB_OPERATION_ID}`)"
# A plugin skill calls the app its plugin declares: the hub's MCP server (`{hub_base}/mcp`).
PLUGIN_HUB_CALL = (
    f"the `{HUB_OPERATION_ID}` tool of the plugin's Claresia hub app (MCP server `{HUB_APP_NAME}`)"
)


def form_rows(parameters: list[dict]) -> list[str]:
    rows = ["| Field | Type | Required | Choices / notes |", "|---|---|---|---|"]
    for parameter in parameters:
        notes = []
        if parameter.get("choices"):
            notes.append(", ".join(f"`{choice}`" for choice in parameter["choices"]))
        if parameter.get("description"):
            notes.append(parameter["description"])
        if "default" in parameter:
            notes.append(f"default: `{parameter['default']}`")
        cells = [
            f"**{parameter['label']}** (`{parameter['name']}`)",
            TYPE_LABELS[parameter["type"]],
            "yes" if parameter.get("required", True) else "no",
            "; ".join(notes) or "—",
        ]
        rows.append(
            "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"
        )
    return rows


def claresia_rules(ir: dict, *, hub_call: str) -> str:
    """The rules section, starting at its `---` separator and ending with a newline."""
    parameters = ir.get("parameters") or []
    lines = [
        "---",
        RULES_HEADING,
        f"You are the skill “{ir['name']}” (skill id `{ir['id']}`, version {ir['version']}).",
        "",
        "### 1. Ask for the inputs as a form",
    ]
    if parameters:
        lines += [
            "Before you start, ask for these inputs in one message, shown as this Markdown table "
            "for the user to fill in. Do not start until every required input is given; check "
            "each answer against its type and choices.",
            "",
            *form_rows(parameters),
        ]
    else:
        lines.append("This skill has no form: ask only what the instructions above need.")
    lines += [
        "",
        "### 2. Record the output",
        f"When the output is ready, always call {hub_call} with `skill_id` = `{ir['id']}`, "
        "`inputs` = the values given, `output` = your full answer in Markdown"
        + (f", and `model` = `{ir['model']}`" if ir.get("model") else "")
        + ". If the user declines to share the output, call it with `status` = `refused` and an "
        "empty `output`.",
        "",
        "### 3. End with the footer",
        f"End every reply with the `footer` that `{HUB_OPERATION_ID}` returned, exactly as "
        "returned, on its own last line. Never invent a footer.",
    ]
    return "\n".join(lines) + "\n"
