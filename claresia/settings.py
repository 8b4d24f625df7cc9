"""Settings, read from the environment (and a `.env` file) with django-environ.

The variables and their defaults are those of `shared/contracts/operations.md`. There is one
settings module: production is this module with `DEBUG=false` and real secrets, and it refuses
to start on the development ones.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.utils.csp import CSP

from claresia.broker import filesystem_transport_options

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# `make run` writes the demo's environment to `.env` (git-ignored) so every `manage.py` command
# run beside it talks to the same sandbox; CLARESIA_ENV_FILE names another file, or none when
# empty (the test suite sets it empty: its environment is the Makefile's alone).
ENV_FILE = env.str("CLARESIA_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)

# Development values: usable only with DEBUG on (checked below).
DEV_SECRET_KEY = "django-insecure-claresia-development-key-do-not-use-in-production"  # noqa: S105 - refused unless DEBUG
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LWZpZWxkLWtleS1kby1ub3QtdXNlLWluLXByb2Q="

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[DEV_FIELD_ENCRYPTION_KEY])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

OPENAI_API_BASE = env.str("OPENAI_API_BASE", default="https://api.openai.com/v1").rstrip("/")
# The real Compliance API host (contracts/chatgpt-admin-api.md → Credentials and errors).
CHATGPT_ADMIN_API_BASE = env.str(
    "CHATGPT_ADMIN_API_BASE", default="https://api.chatgpt.com/v1"
).rstrip("/")
# A Logs Platform file's download bounds (chatgpt-admin-api.md → Compliance Logs Platform: ~15 MB
# per file, assumed). Decoded bytes: 64 MiB, four times that cap, so a larger real file is still
# read while a gzip bomb stops after 64 MiB inflated (well under a second of CPU; the lines are
# streamed, so memory stays flat either way). Time: 120 s from the first request to the last
# byte, a 15 MB file at 128 KB/s, so a body that streams for ever releases the poll lock.
LOGS_FILE_MAX_BYTES = env.int("LOGS_FILE_MAX_BYTES", default=64 * 1024 * 1024)
LOGS_FILE_MAX_SECONDS = env.float("LOGS_FILE_MAX_SECONDS", default=120.0)
# Follow a log file's 307 over plain http and to loopback or private addresses: the sandbox only
# (tests, `make run`, the benchmarks), which serves its signed URLs on loopback. Off in production
# (refused below with DEBUG off): a 307 to 169.254.169.254 must never be followed.
LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP = env.bool("LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP", default=False)
CLARESIA_HUB_BASE_URL = env.str("CLARESIA_HUB_BASE_URL", default="https://api.claresia.com")
# Days a footer's View record link opens its record without a login (telemetry/hub/links.py).
HUB_RECORD_LINK_DAYS = env.int("HUB_RECORD_LINK_DAYS", default=30)
TELEMETRY_POLL_INTERVAL = env.int("TELEMETRY_POLL_INTERVAL", default=60)
TELEMETRY_INITIAL_LOOKBACK = env.int("TELEMETRY_INITIAL_LOOKBACK", default=86400)
TELEMETRY_OVERLAP = env.int("TELEMETRY_OVERLAP", default=600)
# Seconds an invocation may wait for its hub record before it is a governance event.
TELEMETRY_RECONCILE_GRACE = env.int("TELEMETRY_RECONCILE_GRACE", default=900)
# Skill import bounds (a ZIP bomb is refused, not unpacked) and publish concurrency per run.
SKILLS_IMPORT_MAX_BYTES = env.int("SKILLS_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
SKILLS_IMPORT_MAX_FILES = env.int("SKILLS_IMPORT_MAX_FILES", default=2000)
# What the skill documents (skill.yaml, SKILL.md) of one import may take together, besides each
# document's own bounds (skills/ir/documents.py): bytes read and values parsed into memory.
SKILLS_IMPORT_MAX_IR_BYTES = env.int("SKILLS_IMPORT_MAX_IR_BYTES", default=16 * 1024 * 1024)
SKILLS_IMPORT_MAX_IR_VALUES = env.int("SKILLS_IMPORT_MAX_IR_VALUES", default=200_000)
SKILLS_PUBLISH_CONCURRENCY = env.int("SKILLS_PUBLISH_CONCURRENCY", default=8)
# The plugin marketplace (chatgpt-admin-api.md, "Plugins, the successor"): a bare cache per tenant,
# the branch ChatGPT imports, each git call's time bound, and how long a publish waits for another.
PLUGIN_REPOS_DIR = Path(env.str("PLUGIN_REPOS_DIR", default=str(VAR_DIR / "plugin-repos")))
PLUGIN_REPOS_BRANCH = env.str("PLUGIN_REPOS_BRANCH", default="main")
PLUGIN_GIT_TIMEOUT = env.float("PLUGIN_GIT_TIMEOUT", default=120.0)
PLUGIN_PUBLISH_LOCK_WAIT = env.float("PLUGIN_PUBLISH_LOCK_WAIT", default=30.0)


def _refuse_to_start(reason: str) -> None:
    # One line on stderr and a non-zero exit, not a traceback (operations.md: clear errors).
    raise SystemExit(f"claresia: refusing to start: {reason}")


def _check_encryption_keys(keys: list[str]) -> None:
    if not keys:
        _refuse_to_start("FIELD_ENCRYPTION_KEYS is empty; give at least one Fernet key")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            _refuse_to_start(
                f"FIELD_ENCRYPTION_KEYS key #{position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            )


_check_encryption_keys(FIELD_ENCRYPTION_KEYS)
if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY:
        _refuse_to_start("SECRET_KEY is the development key and DEBUG is off; set SECRET_KEY")
    if DEV_FIELD_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
        _refuse_to_start(
            "FIELD_ENCRYPTION_KEYS holds the development key and DEBUG is off; "
            "set your own Fernet keys"
        )
    if LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP:
        _refuse_to_start(
            "LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP is on and DEBUG is off; it is for the sandbox only"
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "oauth2_provider",
    "claresia",
    "connectors",
    "skills",
    "telemetry",
    "command_center",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a parameter: a NUL in one is a 400, never a database error.
    "claresia.middleware.RejectControlCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "claresia.urls"
WSGI_APPLICATION = "claresia.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'claresia.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's web server, poller and traffic simulator write at once: WAL lets readers run
    # beside a writer, IMMEDIATE transactions queue writers instead of failing mid-way.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite (the demo's fallback) ignores the INCLUDE columns of fn_telemetry_event's covering index;
# it is still a plain (tenant, occurred_at) index there, and PostgreSQL uses it whole.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Shared state between processes (throttles, progress): Redis in production and in the tests;
# the zero-setup local run keeps it in memory.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://claresia")}
# The ChatGPT admin API's limit, "100 requests per minute per workspace, per method and route"
# (chatgpt-admin-api.md → Credentials and errors), kept for every process in this Redis
# (connectors/openai/pacing.py): the cache's when it is a Redis; empty, each process paces alone.
_CACHE_URL = env.str("CACHE_URL", default="")
CHATGPT_ADMIN_PACING_REDIS_URL = env.str(
    "CHATGPT_ADMIN_PACING_REDIS_URL",
    default=_CACHE_URL if _CACHE_URL.startswith(("redis://", "rediss://")) else "",
)
CHATGPT_ADMIN_RATE_LIMIT = env.int("CHATGPT_ADMIN_RATE_LIMIT", default=100)
CHATGPT_ADMIN_RATE_WINDOW = env.float("CHATGPT_ADMIN_RATE_WINDOW", default=60.0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` writes (production serves it with WhiteNoise, manifest-hashed names).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Static files are served by the app itself (WhiteNoise): no CDN, no second server to run.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic's place, made in production

# Security headers; with DEBUG off, `manage.py check --deploy --fail-level WARNING` is clean.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGIN_URL = "/admin/login/"

# Login throttle (django-axes): failed logins are counted per account and client address; at the
# limit that pair is locked out for the cool-off, even with the right password; a success resets
# the count. Locking the pair, not the account, keeps a guesser from locking its owner out.
# An administrator unlocks early in the admin (Axes → Access attempts) or with
# `manage.py axes_reset_username USERNAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before the others
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "claresia.throttling.lockout_response"
# The client address: README's production runs behind one TLS proxy, which appends the address
# it saw to X-Forwarded-For; REMOTE_ADDR there is the proxy's, shared by every client. Without a
# proxy (the local run) the header is the client's own to forge, so it is not read.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1)
AXES_CLIENT_IP_CALLABLE = "claresia.throttling.client_ip"
AXES_ENABLE_ADMIN = False  # claresia/admin.py registers axes' admin pages itself

# Hub API (telemetry/hub, hub-records-api.md): hub tokens are HMAC-SHA256 digests keyed by this
# pepper (SECRET_KEY when unset: rotating it then revokes every hub token); one throttle per token.
HUB_TOKEN_PEPPER = env.str("HUB_TOKEN_PEPPER", default="")
# The hub's record INSERT is a prepared statement on PostgreSQL (telemetry/hub/services.py,
# _insert_cursor). Set to false behind a pooler that does not keep prepared statements per
# client (a transaction-mode PgBouncer before 1.21).
HUB_PREPARED_INSERT = env.bool("HUB_PREPARED_INSERT", default=True)
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "hub_token": env.str("HUB_TOKEN_RATE", default="6000/min"),
        # /mcp, per OAuth client (one ChatGPT connection of one tenant): as a hub token's.
        "mcp_client": env.str("MCP_CLIENT_RATE", default="6000/min"),
        # Client registration, per client address (a registrant is no one yet). ChatGPT
        # registers once per connection an admin adds, from OpenAI's egress shared by every
        # workspace: 30 an hour is far above that, and bounds the never-approved rows.
        "oauth_register": env.str("OAUTH_REGISTER_RATE", default="30/hour"),
    },
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Claresia hub API",
    "DESCRIPTION": "What every published GPT calls: records its output, returns the footer.",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
}

# The hub as an MCP app (/mcp, README "The hub as an MCP app"): OAuth 2.1 per the MCP
# authorization spec, on django-oauth-toolkit. Public clients registered by ChatGPT (RFC 7591),
# authorization code + PKCE S256 only, short-lived access tokens, rotated refresh tokens with
# replay detection, tokens stored only as SHA-256 checksums (RFC 9700 §4), `iss` in responses.
MCP_ACCESS_TOKEN_SECONDS = env.int("MCP_ACCESS_TOKEN_SECONDS", default=3600)
MCP_SCOPE = "hub.records"
# DOT's own default, named so that telemetry's migration can refer to it as a swappable model.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# Tests only: hosts whose metadata documents may be fetched from non-public addresses, and
# the CA that signs them (the suite's own HTTPS server on loopback). Empty in every deployment.
MCP_CIMD_TEST_HOSTS: list[str] = []
MCP_CIMD_TEST_CA_FILE: str | None = None
OAUTH2_PROVIDER = {
    # DOT's validator narrowed to the hub: codes and tokens for /mcp only (RFC 8707), a
    # replayed code revokes its tokens (RFC 6749 §4.1.2).
    "OAUTH2_VALIDATOR_CLASS": "telemetry.app_connection.oauth_validator.McpOAuth2Validator",
    # …which reads the hub's URL from the request's absolute URI
    "OAUTH2_BACKEND_CLASS": "telemetry.app_connection.oauth_validator.McpOAuthLibCore",
    "SCOPES": {MCP_SCOPE: "Record skill outputs to this tenant's Claresia hub"},
    "DEFAULT_SCOPES": [MCP_SCOPE],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": MCP_ACCESS_TOKEN_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("MCP_REFRESH_TOKEN_SECONDS", default=30 * 86400),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # ChatGPT's redirect is https; plain http only for loopback clients in development.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if DEBUG else ["https"],
    "ALLOW_URI_WILDCARDS": False,
    # Our own strict registration view (telemetry/app_connection/oauth.py) replaces DOT's DCR.
    "DCR_ENABLED": False,
    # RFC 8414 metadata (DOT's view, oauth.AuthorizationServerMetadataView): what ChatGPT uses
    # and nothing more — public clients, the code grant and its refresh tokens. The token
    # endpoint refuses any other grant from the same list (oauth.McpTokenView).
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["none"],
    # Client ID Metadata Documents (telemetry/app_connection/cimd.py): DOT fetches and
    # materialises them; the hub's fetcher, and a fetch counts as a registration.
    "CIMD_ENABLED": True,
    "CIMD_METADATA_FETCHER": "telemetry.app_connection.cimd.McpMetadataFetcher",
    "CIMD_REGISTRATION_PERMISSION_CLASSES": (
        "telemetry.app_connection.cimd.RegistrationThrottlePermission",
    ),
    # The draft's suggested bound (§6.6, "e.g. 5 kilobytes"): a name and a few redirect URIs
    # are a few hundred bytes; ChatGPT's document is well under it.
    "CIMD_MAX_DOCUMENT_SIZE": 5 * 1024,
    # One deadline for resolving, connecting and reading, on the authorization request's
    # thread: a document host answers in well under a second.
    "CIMD_FETCH_TIMEOUT_SECONDS": 3,
    # Cache-Control max-age, clamped: at least 5 minutes (no-store/no-cache included) so a
    # client cannot make every request a fetch; at most a day so a change is seen daily.
    "CIMD_METADATA_MIN_AGE_SECONDS": 300,
    "CIMD_METADATA_MAX_AGE_SECONDS": 86400,
    "CIMD_FAILURE_BACKOFF_SECONDS": 60,
    "CIMD_MAX_CONCURRENT_FETCHES": 4,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": not DEBUG,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# Celery: a Redis broker in production; with none configured, tasks run in-process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
if CELERY_BROKER_URL and CELERY_BROKER_URL.startswith("filesystem://"):
    # `make run`'s broker: kombu's filesystem transport, one folder of message files that the
    # web process writes and a local worker reads (scripts/demo.sh); nothing to install.
    CELERY_FILESYSTEM_FOLDER = Path(
        env.str("CELERY_FILESYSTEM_FOLDER", default=str(BASE_DIR / "var" / "celery"))
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_transport_options(
        CELERY_FILESYSTEM_FOLDER,
        polling_interval=env.float("CELERY_FILESYSTEM_POLLING_INTERVAL", default=0.2),
    )
# Time limits (seconds) of the tasks that hold a lock or a run: at the soft limit the task stops,
# releases its lock and records "stopped after N s: time limit" (claresia/time_limits.py); the
# hard limit, later, kills a worker child that did not even manage that. A poll reads at most
# 200 Logs Platform files, each a request on one route paced at 100 per minute: 2 minutes and
# more of a backlog, so 5 poll intervals; beat's polls in the meantime find the lock taken and
# skip. A publish run creates GPTs 8 at a time, a plugin publish makes a few git calls of at
# most PLUGIN_GIT_TIMEOUT (120 s) each, a drift check reads one GPT per published skill.
TELEMETRY_POLL_SOFT_TIME_LIMIT = env.int("TELEMETRY_POLL_SOFT_TIME_LIMIT", default=300)
SKILLS_PUBLISH_SOFT_TIME_LIMIT = env.int("SKILLS_PUBLISH_SOFT_TIME_LIMIT", default=900)
PLUGIN_PUBLISH_SOFT_TIME_LIMIT = env.int("PLUGIN_PUBLISH_SOFT_TIME_LIMIT", default=900)
DRIFT_CHECK_SOFT_TIME_LIMIT = env.int("DRIFT_CHECK_SOFT_TIME_LIMIT", default=600)
# Past the soft limit, the time to release and record: an HTTP call in flight ends within its
# 30 s timeout, a git call is killed at once.
TASK_TIME_LIMIT_GRACE = env.int("TASK_TIME_LIMIT_GRACE", default=60)
# Celery's Django fix-up closes the database connection before and after every task unless this
# is set: each poll then opened a new PostgreSQL session (a backend forked and authenticated),
# about as costly as the poll's own queries (bench_fleet). A worker child keeps its session for
# this many tasks; the poll's advisory locks are session locks and are released by each task.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=100)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Periodic tasks (celery beat). Each entry's task takes no argument and fans out per tenant.
CELERY_BEAT_SCHEDULE = {
    # Drift: published GPTs read back daily (ChatGPT's admins can edit or delete them there).
    "skills-drift-check-daily": {
        "task": "skills.tasks.drift_check_all_task",
        "schedule": crontab(hour=4, minute=30),
    },
    # Plugins: each tenant's marketplace committed and pushed when its skills changed; ChatGPT
    # syncs it daily, so once a day is enough.
    "skills-plugin-publish-daily": {
        "task": "skills.tasks.plugin_publish_all_task",
        "schedule": crontab(hour=5, minute=0),
    },
    # The workspace's GPT and plugin inventories, stored for the pages (which never ask OpenAI):
    # hourly bounds how old a page's "read at" gets without anyone pressing Check now.
    "skills-workspace-read-hourly": {
        "task": "skills.tasks.workspace_read_all_task",
        "schedule": crontab(minute=15),
    },
    # The MCP app's OAuth clients: registrations no tenant admin approved within a day go
    # (anyone may register, RFC 7591); hourly, so none outlives a day by much.
    "telemetry-mcp-clients-unapproved-remove": {
        "task": "telemetry.mcp_clients_unapproved_remove",
        "schedule": crontab(minute=17),
    },
    # Telemetry (seed Part 4): every connected tenant's audit log, each TELEMETRY_POLL_INTERVAL s.
    "telemetry-poll-tenants": {
        "task": "telemetry.poll_tenants",
        "schedule": float(TELEMETRY_POLL_INTERVAL),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "claresia.logging.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "claresia.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # Structured (JSON lines) in production, readable in development.
            "formatter": env.str("LOG_FORMAT", default="plain" if DEBUG else "json"),
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Failed logins and lockouts are warnings; every successful login is not news.
        "axes": {"level": "WARNING"},
        # The MCP SDK logs each stateless exchange's manager start and stop at INFO.
        "mcp": {"level": "WARNING"},
    },
}
