import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from claresia.commands import tenant_for_command
from telemetry.ingest.services import (
    POLL_PAGE_BUDGET,
    PollStatus,
    telemetry_poll_tenants,
    tenants_to_poll,
)


class Command(BaseCommand):
    help = (
        "Poll every source a connected tenant's credentials reach (Part 4: the seed's audit log, "
        "the Compliance Logs Platform) into fn_telemetry_event; loops until SIGTERM/SIGINT "
        "unless --once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="poll only this tenant (slug)")
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval",
            type=int,
            default=None,
            help="seconds between passes (default TELEMETRY_POLL_INTERVAL)",
        )
        parser.add_argument(
            "--max-pages",
            type=int,
            default=POLL_PAGE_BUDGET,
            help=f"audit-log pages one poll of a tenant may read (default {POLL_PAGE_BUDGET}); "
            "a larger backlog resumes at the next pass",
        )

    def handle(self, *args, tenant, once, interval, max_pages, **options):
        interval = settings.TELEMETRY_POLL_INTERVAL if interval is None else interval
        if interval < 1:
            raise CommandError("--interval must be at least 1 second")
        if max_pages < 1:
            raise CommandError("--max-pages must be at least 1")
        if tenant is not None:
            tenant_for_command(tenant)
            if not tenants_to_poll(slug=tenant).exists():
                raise CommandError(
                    f"tenant {tenant} has no OpenAI connector: run connect_openai first"
                )
        stop = threading.Event()

        def request_stop(signum, frame):
            # Honoured between pages: the page in hand is stored with its progress first.
            stop.set()

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            while True:
                try:
                    outcomes = telemetry_poll_tenants(
                        slug=tenant, max_pages=max_pages, should_stop=stop.is_set
                    )
                except DatabaseError as exc:
                    # A busy or restarting database: nothing is lost (the cursor only moves
                    # with its rows), so the loop says so and tries again next pass.
                    if once:
                        raise CommandError(f"database unavailable: {exc}") from None
                    self.stderr.write(f"poll pass failed, database unavailable: {exc}")
                    outcomes = []
                for outcome in outcomes:
                    self.stdout.write(str(outcome))
                self.stdout.flush()
                if once or stop.wait(interval):
                    break
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if stop.is_set():
            self.stdout.write("stopped")
        failed = [o for o in outcomes if o.status == PollStatus.FAILED]
        if once and failed:
            raise CommandError("; ".join(f"{o.tenant}: {o.failure}" for o in failed))
