"""The git edge of the plugin marketplace: a per-tenant bare cache repository driven through the
`git` CLI (pyproject.toml says why), fetch and push over HTTPS with a token that is never on a
command line, in a URL, a message or a log line.

The token reaches git only through its environment (`GIT_CONFIG_COUNT` → `http.<url>.extraHeader`,
read by git, invisible to `ps` for other users); every message git writes is redacted before it
is raised. Each call has a bounded time and is killed with its children (git-remote-https) when it
runs over. Faults are classified into what the page and the command say (`GitFault`).

The tree is built with plumbing on a temporary index (no worktree): the remote's tree is read,
Claresia's paths (`skills.targets.plugin.marketplace.owned_paths`) are replaced, everything else is
kept.
"""

import base64
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from claresia.time_limits import SoftTimeLimitExceeded

logger = logging.getLogger(__name__)

# Git's messages in English whatever the host's locale: the fault patterns below read them.
BASE_ENV = {"LC_ALL": "C", "LANG": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
# Kept from the process's environment: where git is, and the proxies a deployment may need.
PASSED_ENV = ("PATH", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY")
PASSED_ENV += ("NO_PROXY", "SSL_CERT_FILE", "GIT_SSL_CAINFO")
DETAIL_LIMIT = 200
# GitHub's form of a token in basic auth (also accepted by GitLab and Gitea): any user name
# with the token as the password; GitHub documents `x-access-token`.
TOKEN_USER = "x-access-token"  # noqa: S105 - a user name, not a secret
# Debian's git (2.39: GIT_CONFIG_COUNT needs 2.31) from PATH, resolved once to a full path.
GIT = shutil.which("git") or "/usr/bin/git"
COMMITTER = {"name": "Claresia", "email": "plugins@claresia.invalid"}


class GitFault(StrEnum):
    UNREACHABLE = "unreachable"
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"  # non-fast-forward: someone pushed since the fetch
    REDIRECTED = "redirected"  # the remote answered 3xx: not followed (the token stays)
    INTERRUPTED = "interrupted"
    BUSY = "busy"
    FAILED = "failed"


class GitError(Exception):
    """A git operation that did not complete; `user_message` is one line for a page or stderr."""

    def __init__(self, fault: GitFault, user_message: str) -> None:
        super().__init__(user_message)
        self.fault = fault
        self.user_message = user_message


# (fault, pattern in git's stderr), first match wins. Authentication before connection: a 401
# names the host too.
FAULT_PATTERNS = (
    (GitFault.REFUSED, r"error: 40[13]|Authentication failed|could not read (Username|Password)"),
    (GitFault.REFUSED, r"terminal prompts disabled|Permission to .* denied|403 Forbidden"),
    (GitFault.REDIRECTED, r"returned error: 30[12378]|redirect"),
    (GitFault.NOT_FOUND, r"error: 404|repository .* not found|Repository not found"),
    (GitFault.REJECTED, r"\[rejected\]|non-fast-forward|fetch first|failed to update ref"),
    (GitFault.UNREACHABLE, r"Failed to connect|Could not resolve|Connection refused"),
    (GitFault.UNREACHABLE, r"Connection timed out|Couldn't connect|No route to host"),
)


@dataclass(frozen=True)
class Remote:
    url: str
    token: str

    def __repr__(self) -> str:
        return f"Remote(url={self.url!r}, token=…)"


def classify(stderr: str) -> GitFault | None:
    for fault, pattern in FAULT_PATTERNS:
        if re.search(pattern, stderr):
            return fault
    return None


def fault_message(fault: GitFault, *, url: str, detail: str, operation: str) -> str:
    host = urlsplit(url).netloc or url
    nothing_lost = "nothing was changed there; the next publish retries"
    return {
        GitFault.UNREACHABLE: f"plugin remote unreachable: {host} did not answer the {operation} "
        f"({detail}); {nothing_lost}",
        GitFault.REFUSED: f"plugin remote refused the token ({detail}): configure a token with "
        f"write access to {url} (Command Center → Distribution → Plugin → Repository)",
        GitFault.NOT_FOUND: f"no repository at {url} (or the token cannot see it): create it, "
        "or correct the URL (Command Center → Distribution → Plugin → Repository)",
        GitFault.REDIRECTED: f"plugin remote {url} redirected Claresia elsewhere ({detail}): "
        "redirects are not followed, so the token is never sent to another address; configure "
        "the repository's own URL (the one `git clone` ends on)",
        GitFault.REJECTED: f"the push to {url} was refused as a non-fast-forward again and "
        "again: someone keeps pushing to it; publish again",
        GitFault.INTERRUPTED: f"the {operation} to {url} was interrupted ({detail}); nothing is "
        "lost: the next publish completes it",
        GitFault.FAILED: f"git {operation} failed for {url}: {detail}",
    }[fault]


class TenantRepository:
    """The tenant's cache: a bare repository under PLUGIN_REPOS_DIR that mirrors the remote's
    branch and builds the next commit on a temporary index."""

    def __init__(self, path: Path, remote: Remote, *, branch: str, timeout: float) -> None:
        self.path = path
        self.remote = remote
        self.branch = branch
        self.timeout = timeout
        self.tracking = f"refs/remotes/origin/{branch}"
        header = ""
        if remote.token:
            pair = base64.b64encode(f"{TOKEN_USER}:{remote.token}".encode()).decode()
            header = f"Authorization: Basic {pair}"
        self._secrets = tuple(s for s in (remote.token, header.rpartition(" ")[2]) if s)
        self._auth = {
            "GIT_CONFIG_COUNT": "3",
            # Scoped to the remote's URL: never sent to another host.
            "GIT_CONFIG_KEY_0": f"http.{remote.url}.extraHeader",
            "GIT_CONFIG_VALUE_0": header,
            # No credential helper of the host may answer (or store) for this remote.
            "GIT_CONFIG_KEY_1": "credential.helper",
            "GIT_CONFIG_VALUE_1": "",
            # git follows the first request's redirect and sends the rest of the exchange,
            # extraHeader included, to the new base URL: a remote that redirects to another
            # origin would receive the token there. No redirect is followed; the page names
            # the URL to configure instead.
            "GIT_CONFIG_KEY_2": "http.followRedirects",
            "GIT_CONFIG_VALUE_2": "false",
        }

    # ---- running git ---------------------------------------------------------------------

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "…")
        return text

    def _env(self, extra: dict | None = None) -> dict:
        env = {key: os.environ[key] for key in PASSED_ENV if key in os.environ}
        env.update(BASE_ENV)
        env.update(
            {
                "HOME": str(self.path),
                "GIT_CONFIG_GLOBAL": os.devnull,
                "GIT_DIR": str(self.path),
                **self._auth,
            }
        )
        env.update(extra or {})
        return env

    def git(
        self, *args: str, stdin: bytes = b"", env: dict | None = None, operation: str = ""
    ) -> str:
        """Run git in the cache; stdout as text. GitError (redacted, classified) when it fails
        or runs over the timeout, its whole process group killed."""
        return self._run(*args, stdin=stdin, env=env, operation=operation).decode(
            "utf-8", "replace"
        )

    def _run(
        self, *args: str, stdin: bytes = b"", env: dict | None = None, operation: str = ""
    ) -> bytes:
        # Arguments are ours (commands, ids, refs), never a shell string: no injection.
        process = subprocess.Popen(  # noqa: S603
            [GIT, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env(env),
            cwd=self.path,
            start_new_session=True,
        )
        try:
            out, err = process.communicate(stdin, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            fault = GitFault.INTERRUPTED if operation == "push" else GitFault.UNREACHABLE
            detail = f"no answer within {self.timeout:g} s"
            raise GitError(
                fault,
                fault_message(
                    fault, url=self.remote.url, detail=detail, operation=operation or args[0]
                ),
            ) from None
        except SoftTimeLimitExceeded:
            # The task's time limit: git and its helpers go with it, not left running.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        if process.returncode != 0:
            # `push --porcelain` reports a rejected ref on stdout, the reason on stderr.
            said = self.redact((err + b"\n" + out).decode("utf-8", "replace"))
            fault = classify(said) or (
                GitFault.INTERRUPTED if operation == "push" else GitFault.FAILED
            )
            lines = [
                line.strip()
                for line in self.redact(err.decode("utf-8", "replace")).splitlines()
                if line.strip() and not line.startswith("hint:")
            ]
            detail = (lines[-1] if lines else f"exit {process.returncode}")[:DETAIL_LIMIT]
            logger.warning("git %s failed (%s): %s", args[0], fault, detail)
            raise GitError(
                fault,
                fault_message(
                    fault, url=self.remote.url, detail=detail, operation=operation or args[0]
                ),
            )
        return out

    # ---- the cache -----------------------------------------------------------------------

    def ensure(self) -> None:
        """The bare cache exists and `origin` is the configured URL (it may have changed)."""
        if not (self.path / "HEAD").exists():
            self.path.mkdir(parents=True, exist_ok=True)
            self.git("init", "--quiet", "--bare", f"--initial-branch={self.branch}")
        self.git("config", "remote.origin.url", self.remote.url)
        self.git("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")

    def fetch(self) -> str | None:
        """The remote branch's commit after a fetch, or None when the remote has none yet."""
        self.git("fetch", "--quiet", "--prune", "--no-tags", "origin", operation="fetch")
        return self.head()

    def head(self) -> str | None:
        """The remote branch's commit as last fetched (no network)."""
        found = self.git("for-each-ref", "--format=%(objectname)", self.tracking).strip()
        return found or None

    def blobs(self, treeish: str | None) -> dict[str, str]:
        """{path: blob id} of every file in a commit or tree (none for None)."""
        if treeish is None:
            return {}
        listing = self.git("ls-tree", "-r", "-z", "--full-tree", treeish)
        entries = {}
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            entries[path] = meta.split()[2]
        return entries

    def read(self, commit: str | None, path: str, *, limit: int) -> bytes | None:
        """A file of a commit, if there and within `limit` bytes."""
        if commit is None:
            return None
        blob = self.blobs(commit).get(path)
        if blob is None or int(self.git("cat-file", "-s", blob)) > limit:
            return None
        return self._run("cat-file", "blob", blob)

    def tree_of(self, commit: str | None) -> str | None:
        return self.git("rev-parse", f"{commit}^{{tree}}").strip() if commit else None

    def commit_info(self, commit: str) -> tuple[int, str]:
        """(committer date as a unix time, message) of a commit."""
        epoch = int(self.git("show", "-s", "--format=%ct", commit).strip())
        return epoch, self.git("show", "-s", "--format=%B", commit).strip()

    def build_tree(self, base: str | None, files: dict[str, bytes], *, drop) -> str:
        """The tree of `base` with every path `drop(path)` is true for removed and `files`
        written: one temporary index, one hash-object and one update-index call."""
        with tempfile.TemporaryDirectory(dir=self.path) as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            if base:
                self.git("read-tree", base, env=index)
            else:
                self.git("read-tree", "--empty", env=index)
            # Mode 0 in --index-info removes a path (no worktree needed, unlike --force-remove).
            stale = "".join(f"0 {'0' * 40}\t{path}\0" for path in self.blobs(base) if drop(path))
            if stale:
                self.git("update-index", "-z", "--index-info", stdin=stale.encode(), env=index)
            names = []
            for number, data in enumerate(files.values()):
                name = Path(scratch) / f"blob-{number}"
                name.write_bytes(data)
                names.append(str(name))
            if names:
                ids = self.git(
                    "hash-object",
                    "-w",
                    "--no-filters",
                    "--stdin-paths",
                    stdin="\n".join(names).encode() + b"\n",
                ).split()
                info = "".join(
                    f"100644 {blob}\t{path}\0" for blob, path in zip(ids, files, strict=True)
                )
                self.git(
                    "update-index", "--add", "-z", "--index-info", stdin=info.encode(), env=index
                )
            return self.git("write-tree", env=index).strip()

    def commit(self, tree: str, parent: str | None, message: str, *, epoch: int) -> str:
        """A commit whose every byte comes from its inputs: fixed author, derived date."""
        date = f"@{epoch} +0000"
        env = {
            "GIT_AUTHOR_NAME": COMMITTER["name"],
            "GIT_AUTHOR_EMAIL": COMMITTER["email"],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": COMMITTER["name"],
            "GIT_COMMITTER_EMAIL": COMMITTER["email"],
            "GIT_COMMITTER_DATE": date,
        }
        parents = ["-p", parent] if parent else []
        return self.git("commit-tree", tree, *parents, stdin=message.encode(), env=env).strip()

    def push(self, commit: str) -> None:
        """A fast-forward push of `commit` to the branch (never forced)."""
        self.git(
            "push",
            "--quiet",
            "--porcelain",
            "origin",
            f"{commit}:refs/heads/{self.branch}",
            operation="push",
        )
        self.git("update-ref", self.tracking, commit)
