"""A git remote over the real smart HTTP protocol for the plugin marketplace tests: Debian's
`git http-backend` (CGI) behind a small threaded HTTP server that checks a token, and can drop
the connection of a push to play an interrupted one."""

import base64
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


@dataclass
class GitServerState:
    root: Path
    token: str
    # "": serve; "before": drop a push before the backend sees it; "after": let the backend take
    # the push, then drop the connection before the answer.
    drop_push: str = ""
    # A base URL (another origin): every request is answered 302 to the same path under it,
    # before any token check, as a moved or hostile remote would.
    redirect_to: str = ""
    # Serve the ref advertisement (GET) without a token, as a public or hostile server does.
    anonymous_reads: bool = False
    requests: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)


def _authorized(header: str, token: str) -> bool:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value == token
    if scheme.lower() == "basic":
        try:
            _, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return password == token
    return False


class _Handler(BaseHTTPRequestHandler):
    server_version = "claresia-test-git/1"

    def log_message(self, *args) -> None:  # quiet
        pass

    @property
    def state(self) -> GitServerState:
        return self.server.state

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        self.state.requests.append(f"{self.command} {path}")
        self.state.authorizations.append(self.headers.get("Authorization", ""))
        if self.state.redirect_to:
            self.send_response(302)
            self.send_header("Location", f"{self.state.redirect_to}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        anonymous = self.state.anonymous_reads and self.command == "GET"
        token = self.headers.get("Authorization", "")
        if not anonymous and not _authorized(token, self.state.token):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self._body() if self.command == "POST" else b""
        pushing = path.endswith("/git-receive-pack")
        if pushing and self.state.drop_push == "before":
            self.close_connection = True
            self.connection.close()
            return
        env = {
            "GIT_PROJECT_ROOT": str(self.state.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "REMOTE_USER": "claresia",
            "REMOTE_ADDR": "127.0.0.1",
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.state.root),
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        output = subprocess.run(
            [HTTP_BACKEND], input=body, env=env, capture_output=True, timeout=60, check=False
        ).stdout
        if pushing and self.state.drop_push == "after":
            self.close_connection = True
            self.connection.close()
            return
        head, _, payload = output.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = output.partition(b"\n\n")
        headers = [line.split(":", 1) for line in head.decode().splitlines() if ":" in line]
        status = next((v.strip() for k, v in headers if k.lower() == "status"), "200 OK")
        self.send_response(int(status.split()[0]))
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _serve
    do_POST = _serve


class GitServer:
    def __init__(self, root: Path, token: str) -> None:
        self.state = GitServerState(root=root, token=token)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{name}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def git(*args: str, cwd: Path | None = None, env: dict | None = None) -> str:
    """git as a person at the remote would run it (the tests' own hand-made commits)."""
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd or "/tmp"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Someone",
        "GIT_AUTHOR_EMAIL": "someone@example.com",
        "GIT_COMMITTER_NAME": "Someone",
        "GIT_COMMITTER_EMAIL": "someone@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env={**base, **(env or {})}, capture_output=True, check=True
    ).stdout.decode()


# The token the test remote accepts.
TOKEN = "ghp_marketplace-test-token-1234"


def bare_repository(server: GitServer, name: str = "dainese.git") -> Path:
    """A new, empty bare repository that `server` serves at `server.url(name)`."""
    path = server.state.root / name
    git("init", "--quiet", "--bare", "--initial-branch=main", str(path))
    return path
