"""What every skill target shares: the tenant as a target sees it, the error a skill that cannot
become a target's artefact raises, and the one JSON spelling hashed into bundles and plugins.

Pure: no database, no HTTP, no file, no clock. Both targets (`custom_gpt/`, `plugin/`) import this
module and never each other (`tests/architecture/test_targets.py`).
"""

import json
from dataclasses import dataclass, field


class BundleError(Exception):
    """The skill cannot become this target's artefact (a GPT bundle, a plugin skill folder) as it
    is: every problem, each naming the skill."""

    def __init__(self, skill_id: str, problems: list[str]) -> None:
        self.skill_id = skill_id
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class TenantContext:
    """What a target needs of a tenant: its slug, hub base, archetype → workspace group, and the
    ChatGPT app id (`asdk_app_…`) its workspace gave the Claresia app, if known."""

    slug: str
    hub_base: str
    archetypes: dict[str, str] = field(default_factory=dict)
    app_id: str = ""


def canonical_json(value) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes (and hash)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
