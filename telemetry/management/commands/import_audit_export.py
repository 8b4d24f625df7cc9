from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from claresia.commands import tenant_for_command
from telemetry.ingest.services import AuditExportError, telemetry_import_audit_export


class Command(BaseCommand):
    help = (
        "Import a per-user audit export (CSV or JSONL) into fn_telemetry_event: the fallback "
        "when the Compliance API is not enabled."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("file", help="the export file (.csv or .jsonl)")

    def handle(self, *args, tenant, file, **options):
        tenant_obj = tenant_for_command(tenant)
        path = Path(file)
        try:
            with path.open("rb") as stream:
                report = telemetry_import_audit_export(
                    tenant=tenant_obj, stream=stream, filename=path.name
                )
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        except AuditExportError as exc:
            raise CommandError(f"{file}: {exc}; nothing imported") from None
        for line, message in report.errors:
            self.stderr.write(f"{file}:{line}: {message}")
        self.stdout.write(report.summary())
