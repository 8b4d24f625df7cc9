import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from connectors.sandbox.server import SandboxServer


class Command(BaseCommand):
    help = "Serve the local OpenAI emulator of shared/contracts/openai-enterprise-api.md."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)

    def handle(self, *args, host, port, **options):
        try:
            server = SandboxServer((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None

        def stop(signum, frame):
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"OpenAI sandbox on http://{host}:{port}/v1 (controls: /_sandbox/)")
        self.stdout.flush()
        server.serve_forever()
        server.server_close()
        self.stdout.write("OpenAI sandbox stopped")
