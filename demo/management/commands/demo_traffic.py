import os
import random
import signal
import threading
import time

from django.core.management.base import BaseCommand

from claresia.commands import tenant_for_command
from demo.loader import DEMO_ORG_ID, DEMO_TENANT, DEMO_WORKSPACE_ID
from demo.traffic import TrafficTarget, demo_traffic_tick, live_tick_counts
from telemetry.hub.services import hub_token_issue, hub_tokens_revoke
from telemetry.selectors import hub_tokens_named

SIMULATOR_TOKEN_NAME = "demo traffic simulator"  # noqa: S105 - a label, not a secret


class Command(BaseCommand):
    help = (
        "Simulate the demo tenant's GPTs being used: Compliance Logs Platform files and hub "
        "records."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hub-url", default="http://127.0.0.1:8000")
        # The sandbox scripts/demo.sh starts listens on SANDBOX_PORT (8765 unless set).
        parser.add_argument(
            "--sandbox-url", default=f"http://127.0.0.1:{os.environ.get('SANDBOX_PORT') or 8765}"
        )
        parser.add_argument("--interval", type=float, default=20.0, help="seconds between ticks")
        parser.add_argument(
            "--per-tick",
            type=int,
            default=None,
            help="uses per live tick (default: the --backfill-per-hour rate, spread over ticks)",
        )
        parser.add_argument(
            "--backfill-hours",
            type=int,
            default=24,
            help="history to invent first (within the poller's first lookback)",
        )
        parser.add_argument("--backfill-per-hour", type=int, default=24)
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        tenant = tenant_for_command(DEMO_TENANT, hint="run load_demo first")
        hub_tokens_revoke(tokens=hub_tokens_named(tenant=tenant, name=SIMULATOR_TOKEN_NAME))
        target = TrafficTarget(
            hub_url=options["hub_url"].rstrip("/"),
            hub_token=hub_token_issue(tenant=tenant, name=SIMULATOR_TOKEN_NAME).plaintext,
            sandbox_url=options["sandbox_url"].rstrip("/"),
            org_id=DEMO_ORG_ID,
            workspace_id=DEMO_WORKSPACE_ID,
        )
        rng = random.Random(options["seed"])
        now = int(time.time())
        totals = {
            "invocations": 0,
            "plugin_uses": 0,
            "app_calls": 0,
            "failures": 0,
            "hub_records": 0,
        }
        for hour in range(options["backfill_hours"], 0, -1):
            tick = demo_traffic_tick(
                tenant=tenant,
                target=target,
                now=now - (hour - 1) * 3600 - 120,
                count=options["backfill_per_hour"],
                rng=rng,
                spread_seconds=3480,
            )
            self._report(tick, f"backfill -{hour}h")
            for key in totals:
                totals[key] += getattr(tick, key)
        carry = 0.0
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while not stop.is_set():
            count = options["per_tick"]
            if count is None:
                count, carry = live_tick_counts(
                    per_hour=options["backfill_per_hour"], interval=options["interval"], carry=carry
                )
            tick = demo_traffic_tick(
                tenant=tenant,
                target=target,
                now=int(time.time()),
                count=count,
                rng=rng,
            )
            self._report(tick, "live")
            if options["once"]:
                for key in totals:
                    totals[key] += getattr(tick, key)
                self.stdout.write(
                    f"Simulated {totals['invocations']} invocation"
                    f"{'' if totals['invocations'] == 1 else 's'} "
                    f"({totals['plugin_uses']} of plugin skills, {totals['failures']} failed, "
                    f"{totals['app_calls']} Claresia app calls) and "
                    f"{totals['hub_records']} hub record"
                    f"{'' if totals['hub_records'] == 1 else 's'} "
                    f"over the last {options['backfill_hours']} h."
                )
                break
            stop.wait(options["interval"])

    def _report(self, tick, label: str) -> None:
        self.stdout.write(
            f"{label}: {tick.invocations} invocations ({tick.plugin_uses} of plugin skills, "
            f"{tick.app_calls} app calls, {tick.failures} failed, "
            f"{tick.without_record} without a hub record), {tick.hub_records} hub records, "
            f"{tick.other_gpts} other GPTs"
            + (f"; problems: {'; '.join(tick.errors[:3])}" if tick.errors else "")
        )
