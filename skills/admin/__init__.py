"""Skills in the admin: status per target, import (upload), publish with a confirmation page
showing the plan, dry run, export (GPT bundles or the plugin), the bundle viewable before
publishing, and drift (check, shown per skill, republish). Every action parses input, calls one
service (or queues its task), reports, and writes what it did in each skill's history.

Split by role: `skill.py` the skill's list and change pages (columns, filter, inlines in
`inlines.py`), `pages.py` its two extra pages (import, bundle), `publishing.py` the publish, dry
run and republish actions, `exports.py` the two exports, `drift.py` the drift check (the
actions take one tenant's skills: `selection.py`), `publish_run.py` the publish
runs. The models are registered here, in one place."""

from django.contrib import admin

from skills.admin.publish_run import PublishRunAdmin
from skills.admin.skill import SkillAdmin
from skills.models import PublishRun, Skill

admin.site.register(Skill, SkillAdmin)
admin.site.register(PublishRun, PublishRunAdmin)
