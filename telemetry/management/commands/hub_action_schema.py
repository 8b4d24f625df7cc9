from django.core.management.base import BaseCommand

from skills.hub_action import ACTION_SCHEMA_PATH
from telemetry.hub.schema import action_schema_json


class Command(BaseCommand):
    help = (
        "Write the GPT action schema (the emit_hub_record operation cut from the hub's OpenAPI "
        "document) to skills/openapi/emit_hub_record.json, or print it with --print."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--print", action="store_true", dest="print_only", help="print instead of writing"
        )

    def handle(self, *args, print_only, **options):
        text = action_schema_json()
        if print_only:
            self.stdout.write(text, ending="")
            return
        ACTION_SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
        ACTION_SCHEMA_PATH.write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {ACTION_SCHEMA_PATH.name}")
