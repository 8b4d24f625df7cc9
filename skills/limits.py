"""The platform limits a valid skill can still exceed: warnings at import and beside the skill,
not errors (the skill may be shortened before it is published, or be meant for the plugin
target, which has no such limit). Publishing to ChatGPT refuses it until then, with the same
numbers (skills.targets.custom_gpt.transpiler). The instructions measured are the transpiler's own,
rules included.
"""

from skills.targets.custom_gpt.transpiler import (
    GPT_NAME_LIMIT,
    INSTRUCTIONS_LIMIT,
    gpt_instructions,
)


def gpt_limit_warnings(ir: dict, *, gpt_name: str) -> list[str]:
    """What keeps the validated `ir` from being published as the GPT `gpt_name`, as warnings."""
    warnings = []
    length = len(gpt_instructions(ir))
    if length > INSTRUCTIONS_LIMIT:
        warnings.append(
            f"ChatGPT: the GPT's instructions are {length:,} characters with Claresia's rules, "
            f"{length - INSTRUCTIONS_LIMIT:,} over the {INSTRUCTIONS_LIMIT:,} limit; it cannot be "
            "published as a GPT until they are shorter"
        )
    if len(gpt_name) > GPT_NAME_LIMIT:
        warnings.append(
            f"ChatGPT: the GPT name {gpt_name} is {len(gpt_name)} characters, "
            f"{len(gpt_name) - GPT_NAME_LIMIT} over the {GPT_NAME_LIMIT} limit; it cannot be "
            "published as a GPT under a skill id this long"
        )
    return warnings
