"""Settings for the contact-center hub, all read from the environment.

The embedded default needs no services: SQLite (WAL), the in-memory channel layer
and a Whoosh index, all under HUB_DATA_DIR. DATABASE_URL, REDIS_URL and
SEARCH_BACKEND=postgres switch to the multi-process deployment (DESIGN §3).
"""

from __future__ import annotations

from pathlib import Path

from hub import config
from hub.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

HUB_DATA_DIR = Path(env_str("HUB_DATA_DIR") or BASE_DIR / "var").resolve()
HUB_DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
HTTPS_ONLY = env_bool("HTTPS_ONLY", False)
SECRET_KEY = config.secret_key(env_secret("SECRET_KEY"), HUB_DATA_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])
DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", "US").upper()
# Words that mark a message as a sales enquiry (inbox.routing); empty: the built-in
# list in English, Norwegian, German, French and Spanish.
ROUTING_SALES_INTENT_WORDS = env_list("ROUTING_SALES_INTENT_WORDS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "channels",
    "hub",
    "inbox",
    "kb_documents",
    "mail",
    "telephony",
    "slack_bridge",
    "channels_app",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hub.static_files.AsyncWhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hub.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes' rule).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
ASGI_APPLICATION = "hub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": config.database_settings(env_str("DATABASE_URL"), HUB_DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
CHANNEL_LAYERS = config.channel_layer_settings(REDIS_URL)
SEARCH_BACKEND = config.search_backend_name(env_str("SEARCH_BACKEND", "whoosh"))
SEARCH_INDEX_DIR = HUB_DATA_DIR / "search-index"
MEDIA_ROOT = HUB_DATA_DIR / "media"
MEDIA_URL = "/media/"
# Uploaded documents: the largest accepted file; uploads above Django's in-memory
# limit are spooled under the data dir, not the system's /tmp.
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
FILE_UPLOAD_TEMP_DIR = HUB_DATA_DIR / "tmp"
# Index writes happen on a background thread after commit, so that no request or
# socket waits for the search index; 0 writes them in the committing thread.
SEARCH_INDEX_IN_BACKGROUND = env_bool("SEARCH_INDEX_IN_BACKGROUND", True)
# 1: this process only queues its index writes and `manage.py index_worker`, a
# process of its own, writes them (the multi-process deployment: an index write then
# never shares a web process's interpreter lock with a request).
SEARCH_INDEX_WORKER = env_bool("SEARCH_INDEX_WORKER", False)
FILE_UPLOAD_TEMP_DIR.mkdir(exist_ok=True)

# Without Redis the channel layer reaches only this process; events written by other
# processes (the mail worker, management commands) are picked up from the event log.
EVENT_LOG_POLL_SECONDS = float(env_str("EVENT_LOG_POLL_SECONDS", "1.0" if not REDIS_URL else "5.0"))
# A console tab that sends nothing (not even its 20-second ping) for this long is
# closed, and its agent goes offline when it was their last tab.
CONSOLE_HEARTBEAT_TIMEOUT = float(env_str("CONSOLE_HEARTBEAT_TIMEOUT", "60"))
# Live events wait this long for a new socket's first frame (its resume, if any).
SOCKET_RESUME_GRACE_SECONDS = float(env_str("SOCKET_RESUME_GRACE_SECONDS", "1.0"))

AUTH_USER_MODEL = "hub.User"
AUTHENTICATION_BACKENDS = [
    # Refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Login throttling: five failures for one e-mail address from one IP lock that pair out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if HTTPS_ONLY:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nb", "Norsk bokmål")]
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HUB_DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the apps' static folders: one Daphne process is a complete
# server with DEBUG=0 and no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes a refused key a 401, not a 403.
        "hub.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["hub.permissions.IsActiveUser"],
    "DEFAULT_PAGINATION_CLASS": "hub.api.pagination.HubPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [],
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Contact-center hub API",
    "DESCRIPTION": "Unified inbox, CRM core, notes, documents and search.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the hub itself: installations may have no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "inbox.models.conversations.ConversationStatus",
        "MessageStatusEnum": "inbox.models.conversations.MessageStatus",
        "TaskStatusEnum": "hub.models.crm.TaskStatus",
        "PresenceStatusEnum": "inbox.models.presence.PresenceStatus",
        "MailSecurityEnum": "mail.models.Security",
    },
}

TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL")
# How many agents one incoming call rings at once (the rest of the team's available
# agents wait for later calls; callers queue when nobody is free). Twilio dials at
# most ten <Client>/<Number> nouns of one <Dial>, so larger values are capped at 10.
TELEPHONY_RING_GROUP_SIZE = env_int("TELEPHONY_RING_GROUP_SIZE", 10)
# Callers on hold: the longest wait before the queue sends them to voicemail, and the
# hold music. Twilio asks the hub again each time the music ends, so the clip's
# length is how often a waiting caller looks for a free agent.
TELEPHONY_QUEUE_MAX_WAIT_SECONDS = env_int("TELEPHONY_QUEUE_MAX_WAIT_SECONDS", 10 * 60)
TELEPHONY_HOLD_MUSIC_URL = env_str(
    "TELEPHONY_HOLD_MUSIC_URL",
    # Twilio's own royalty-free hold music.
    "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3",
)
# Mail (mail_sync): size limits, timing of IDLE/polling, leases and SMTP retries.
MAIL_MAX_MESSAGE_BYTES = env_int("MAIL_MAX_MESSAGE_BYTES", 25 * 1024 * 1024)
MAIL_MAX_ATTACHMENT_BYTES = env_int("MAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
MAIL_IDLE_SECONDS = env_int("MAIL_IDLE_SECONDS", 25 * 60)
MAIL_POLL_SECONDS = env_int("MAIL_POLL_SECONDS", 60)
MAIL_LEASE_SECONDS = env_int("MAIL_LEASE_SECONDS", 120)
MAIL_MAX_BACKOFF_SECONDS = env_int("MAIL_MAX_BACKOFF_SECONDS", 300)
MAIL_OUTBOX_POLL_SECONDS = env_int("MAIL_OUTBOX_POLL_SECONDS", 2)
MAIL_SEND_MAX_ATTEMPTS = env_int("MAIL_SEND_MAX_ATTEMPTS", 8)
MAIL_SEND_RETRY_SECONDS = env_int("MAIL_SEND_RETRY_SECONDS", 30)
MAIL_SEND_STALE_SECONDS = env_int("MAIL_SEND_STALE_SECONDS", 600)
SLACK_SIGNING_SECRET = env_secret("SLACK_SIGNING_SECRET")
SLACK_BOT_TOKEN = env_secret("SLACK_BOT_TOKEN")
SLACK_API_BASE_URL = env_str("SLACK_API_BASE_URL", "https://slack.com/api/")
# slack_worker: a reply in a mirrored thread starting with this prefix is an internal note.
SLACK_NOTE_PREFIX = env_str("SLACK_NOTE_PREFIX", "!note")
SLACK_TIMEOUT_SECONDS = env_int("SLACK_TIMEOUT_SECONDS", 10)
SLACK_POLL_SECONDS = env_int("SLACK_POLL_SECONDS", 1)
SLACK_MAX_ATTEMPTS = env_int("SLACK_MAX_ATTEMPTS", 8)
SLACK_RETRY_SECONDS = env_int("SLACK_RETRY_SECONDS", 15)
SLACK_STALE_SECONDS = env_int("SLACK_STALE_SECONDS", 300)
SLACK_MAX_EVENT_BYTES = env_int("SLACK_MAX_EVENT_BYTES", 1024 * 1024)

# Lead capture (inbox/leads.py): spam protection of the website form endpoint.
LEAD_MIN_FILL_SECONDS = env_int("LEAD_MIN_FILL_SECONDS", 3)
LEAD_TOKEN_MAX_AGE_SECONDS = env_int("LEAD_TOKEN_MAX_AGE_SECONDS", 24 * 3600)
LEAD_RATE_LIMIT = env_int("LEAD_RATE_LIMIT", 10)
LEAD_RATE_WINDOW_SECONDS = env_int("LEAD_RATE_WINDOW_SECONDS", 600)
# Outgoing webhooks (inbox/webhooks.py, manage.py webhook_worker).
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)
WEBHOOK_RETRY_SECONDS = env_int("WEBHOOK_RETRY_SECONDS", 15)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_POLL_SECONDS = env_int("WEBHOOK_POLL_SECONDS", 1)
WEBHOOK_STALE_SECONDS = env_int("WEBHOOK_STALE_SECONDS", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Analytics, surveys and reports (issue 11).
SURVEYS_ENABLED = env_bool("SURVEYS_ENABLED", True)
CHURN_AFTER_DAYS = env_int("CHURN_AFTER_DAYS", 365)
# "stage=probability" pairs, e.g. "prospecting=0.2,proposal=0.6".
DEAL_STAGE_PROBABILITIES = {
    stage.strip(): float(value)
    for stage, _sep, value in (
        pair.partition("=")
        for pair in env_list("DEAL_STAGE_PROBABILITIES", ["prospecting=0.2", "proposal=0.6"])
    )
    if value
}
# "channel=weight" pairs for multi-touch attribution; unlisted channels weigh 1.
ATTRIBUTION_CHANNEL_WEIGHTS = {
    channel.strip(): float(value)
    for channel, _sep, value in (
        pair.partition("=") for pair in env_list("ATTRIBUTION_CHANNEL_WEIGHTS", [])
    )
    if value
}
