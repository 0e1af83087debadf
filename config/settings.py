"""Settings, read from the environment.

With no variables set this is the embedded default: SQLite in var/, Celery on kombu's
filesystem transport (a worker with embedded beat started beside the web server by
`make run`), console e-mail, DEBUG on. Production sets DEBUG=False and then must provide
SECRET_KEY, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS: they have no default there.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp import constants as csp
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)
PRODUCTION = not DEBUG

if PRODUCTION:
    SECRET_KEY = env("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env("SECRET_KEY", default="embedded-development-key-not-for-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "axes",
    # Two-factor sign-in (members.accounts): TOTP authenticators and printed backup codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Partner API keys: hashed, found by prefix (brokerage.PartnerApiKey subclasses its model).
    "rest_framework_api_key",
    "csp",
    "core",
    "members",
    "orders",
    "billing",
    "brokerage",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Right after it, before WhiteNoise, so every response (pages, API, errors, static) gets
    # the Content-Security-Policy and Permissions-Policy headers (see Security below).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whether this session was verified with a second factor; then the gate that sends a
    # user who owes one to the code page or to enrolment, pages and API alike.
    "django_otp.middleware.OTPMiddleware",
    "members.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as its documentation asks: it turns a lockout into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "members.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

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
                "django.template.context_processors.i18n",
                "members.context_processors.roles",
                "brokerage.context_processors.unread",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the embedded worker write to one file: WAL lets readers go on while
    # one writes, IMMEDIATE takes the write lock at BEGIN so two writers queue instead of
    # failing mid-transaction with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles a query whose estimated cost is high: minutes-long reports
    # gain, our short queries lose (the matching query: 12.5 → 10.5 ms). PG_JIT=on restores it.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c jit={'on' if env.bool('PG_JIT', default=False) else 'off'}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker -----------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="" if not PRODUCTION else env.NOTSET)
# django-redis rather than Django's RedisCache: with IGNORE_EXCEPTIONS a Redis outage turns
# every cache call into a miss (logged) instead of an exception, so cached_db sessions fall
# back to the database and pages keep working. Short socket timeouts: a hung Redis costs a
# request at most that long per call, never a hang. The partner throttle counts in Redis
# itself and lets requests through, logged, while it is down (core.throttling).
REDIS_CACHE_OPTIONS = {
    "IGNORE_EXCEPTIONS": True,
    "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CACHE_TIMEOUT", default=0.5),
    "SOCKET_TIMEOUT": env.float("REDIS_CACHE_TIMEOUT", default=0.5),
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis redelivers unacknowledged tasks after this; countdowns stay well below it.
        "visibility_timeout": 3600,
        # A publish while Redis is down must fail fast, not hang the request: the outbox
        # keeps the event and the relay job publishes it later.
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 1,
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Embedded default: kombu's filesystem transport, so the worker needs no server.
    broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(broker_dir / "queue"),
        "data_folder_out": str(broker_dir / "queue"),
        "processed_folder": str(broker_dir / "processed"),
        "control_folder": str(broker_dir / "control"),  # not ./control in the checkout
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False  # needs broadcast, which files cannot do

CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# Separate queues so a long settlement run or a slow partner endpoint never holds up the
# e-mails: production runs one worker per queue (docker-compose.yml); a worker started
# without -Q (embedded mode, tests) consumes them all.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [Queue(name) for name in ("celery", "notifications", "settlement", "partners")]
CELERY_TASK_ROUTES = {
    "brokerage.notification_deliver_task": {"queue": "notifications"},
    "brokerage.notifications_deliver_task": {"queue": "notifications"},
    "brokerage.notifications_relay_task": {"queue": "notifications"},
    "brokerage.event_dispatch_task": {"queue": "notifications"},
    "brokerage.events_relay_task": {"queue": "notifications"},
    "brokerage.capacity_reminders_task": {"queue": "notifications"},
    "brokerage.guest_inquiry_email*": {"queue": "notifications"},
    "brokerage.referral*": {"queue": "partners"},
    "brokerage.webhook*": {"queue": "partners"},
    "brokerage.api_key_usage_prune_task": {"queue": "partners"},
    "billing.*": {"queue": "settlement"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A few frequent scans ("what is due now?") rather than one timer per object.
CELERY_BEAT_SCHEDULE = {
    "notifications-relay": {
        "task": "brokerage.notifications_relay_task",
        "schedule": 60.0,
    },
    "events-relay": {"task": "brokerage.events_relay_task", "schedule": 60.0},
    "inquiries-close-due": {"task": "brokerage.inquiries_close_due_task", "schedule": 60.0},
    "invitations-expire-due": {
        "task": "brokerage.invitations_expire_due_task",
        "schedule": 300.0,
    },
    # Hourly, so a worker that was down at 7:00 still warns today; marks prevent repeats.
    "packages-warn-due": {"task": "brokerage.packages_warn_due_task", "schedule": 3600.0},
    "capacity-reminders": {
        "task": "brokerage.capacity_reminders_task",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),
    },
    # Referral offers past their time to answer move on to the next candidate.
    "referrals-expire-due": {"task": "brokerage.referrals_expire_due_task", "schedule": 300.0},
    "referral-emails-relay": {"task": "brokerage.referral_emails_relay_task", "schedule": 60.0},
    # Guest confirmation e-mails a broker outage left pending (orders.guests).
    "guest-inquiry-emails-relay": {
        "task": "brokerage.guest_inquiry_emails_relay_task",
        "schedule": 60.0,
    },
    # Service level: warn before the limit, escalate after it.
    "sla-check": {"task": "brokerage.sla_check_task", "schedule": 1800.0},
}

# --- Auth -----------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username/IP before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "members.backends.ModelBackend",
]
# Sessions read from the cache (Redis in production, memory when embedded), written through
# to the database: a signed-in request then costs no session query. With Redis down they are
# read from the database; the cache copy lives 5 minutes at most, so a sign-out during an
# outage cannot be undone by the copy a restarted Redis kept (core.sessions).
SESSION_ENGINE = "core.sessions"
SESSION_CACHE_MAX_AGE = env.int("SESSION_CACHE_MAX_AGE", default=300)
# Trusted reverse proxies in front of the web server (the TLS proxy: 1). The client's
# address is then read from X-Forwarded-For (core.lockout.client_ip); 0 trusts no header.
# Set it only when the proxy is the sole way in, or a client can pick its own address.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
# Login throttling: 5 failures for one username from one address lock that pair for 30
# minutes (another address still signs in); 20 failures from one address across any
# usernames (password spraying) lock the address for everyone (core.lockout).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "core.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "core.lockout.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Password reset: a link is valid for an hour from its e-mail's sending; requests per hour
# per e-mail address typed and per visitor's address (members.accounts).
PASSWORD_RESET_TIMEOUT = 60 * 60
PASSWORD_RESET_PER_HOUR_PER_EMAIL = env.int("PASSWORD_RESET_PER_HOUR_PER_EMAIL", default=3)
PASSWORD_RESET_PER_HOUR_PER_ADDRESS = env.int("PASSWORD_RESET_PER_HOUR_PER_ADDRESS", default=10)
# Two-factor sign-in: the name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Joint-order platform")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages and time ---------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "static"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns on a missing root
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail ---------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@localhost")
# Absolute links in e-mails.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # HTTP Basic with the login lockout; refused for accounts with a second factor.
        # First, because DRF asks the first class for the `WWW-Authenticate` challenge:
        # missing or wrong credentials answer 401 + `Basic realm="api"`, not 403.
        "members.auth.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "PAGE_SIZE": 50,
    # The client's address for throttles: the same proxy rule as the login lockout.
    "NUM_PROXIES": PROXY_COUNT,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.api.DomainExceptionHandler",
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "409",
        "415",
        "422",
        "429",
        "500",
    ],
    "ERROR_SCHEMAS": {"409": "core.schema.ConflictErrorResponseSerializer"},
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Joint-order brokerage API",
    "DESCRIPTION": (
        "One window for a network of small manufacturers: members, capabilities, "
        "inquiries, applications and awards. Errors follow one format: "
        '{"type": ..., "errors": [{"code", "detail", "attr"}]}; `attr` names the field.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MembershipStatusEnum": "members.models.MembershipStatus.choices",
        "AppointmentStatusEnum": "members.models.AppointmentStatus.choices",
        "PrefectureEnum": "members.prefectures.PREFECTURE_CHOICES",
        "AwardModeEnum": "orders.models.AwardMode.choices",
        "InquiryStatusEnum": "orders.models.InquiryStatus.choices",
        "ReferralStatusEnum": "brokerage.models.referral.ReferralStatus.choices",
        "ReferralOfferStatusEnum": "brokerage.models.referral.OfferStatus.choices",
        "ReferralCategoryEnum": "brokerage.models.referral.ReferralCategory.choices",
        "ChargeKindEnum": "orders.models.ChargeKind.choices",
        "AgreementKindEnum": "orders.models.AgreementKind.choices",
        "DocumentKindEnum": "billing.models.DocumentKind.choices",
        "RunKindEnum": "billing.models.RunKind.choices",
        **{
            name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
            for name in (
                "ValidationErrorEnum",
                "ClientErrorEnum",
                "ServerErrorEnum",
                "ErrorCode401Enum",
                "ErrorCode403Enum",
                "ErrorCode404Enum",
                "ErrorCode405Enum",
                "ErrorCode406Enum",
                "ErrorCode415Enum",
                "ErrorCode429Enum",
                "ErrorCode500Enum",
            )
        },
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}

# --- Partner API, feed and webhooks (brokerage.partners; docs/partners.md) -----------------
# Requests per API key, counted in the shared cache (Redis in production).
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    **REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}),
    "partner": env("PARTNER_API_RATE", default="600/min"),
}
# Webhooks to loopback/private addresses and plain http: only outside production.
PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS = env.bool(
    "PARTNER_WEBHOOKS_ALLOW_PRIVATE_TARGETS", default=not PRODUCTION
)
# After a webhook secret is rotated, deliveries are signed with the old one too for this long.
PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS = env.int("PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
PARTNER_API_USAGE_DAYS = env.int("PARTNER_API_USAGE_DAYS", default=90)
CELERY_BEAT_SCHEDULE["webhook-deliveries-relay"] = {
    "task": "brokerage.webhook_deliveries_relay_task",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["api-key-usage-prune"] = {
    "task": "brokerage.api_key_usage_prune_task",
    "schedule": crontab(hour=3, minute=30),
}
# Settlement: daily, so a month or fiscal year missed while the beat was down is caught up;
# on the 1st this closes the previous month of every active network.
CELERY_BEAT_SCHEDULE["billing-monthly-close"] = {
    "task": "billing.monthly_close_due_task",
    "schedule": crontab(hour=2, minute=0),
}
CELERY_BEAT_SCHEDULE["billing-annual-fees"] = {
    "task": "billing.annual_fees_due_task",
    "schedule": crontab(hour=2, minute=30),
}
# A running settlement run touches its heartbeat with each chunk's commit (seconds apart);
# one silent for longer than this lost its worker, and the resume scan (every minute) queues
# it again: resumed within STALE + 1 minute, not when Redis redelivers (visibility, 1 h).
SETTLEMENT_RUN_STALE_SECONDS = env.int("SETTLEMENT_RUN_STALE_SECONDS", default=180)
CELERY_BEAT_SCHEDULE["billing-settlement-runs-resume-stale"] = {
    "task": "billing.settlement_runs_resume_stale_task",
    "schedule": env.float("SETTLEMENT_RUN_RESUME_SCAN_SECONDS", default=60.0),
    "options": {"expires": 50},  # scans queued while the worker was down: the next one will do
}
# Document lines' links have no database constraint (docs/integrity.md): look for dangling
# ones daily, before the secretariat's working day.
CELERY_BEAT_SCHEDULE["billing-document-lines-check-integrity"] = {
    "task": "billing.document_lines_check_integrity_task",
    "schedule": crontab(hour=6, minute=15),
}
CELERY_BEAT_SCHEDULE["billing-documents-remind-due"] = {
    "task": "billing.documents_remind_due_task",
    "schedule": crontab(hour=8, minute=0),
}
# Probation: members' scorecards against the network's rule, once a day before work starts.
CELERY_BEAT_SCHEDULE["probation-review"] = {
    "task": "brokerage.probation_review_task",
    "schedule": crontab(hour=5, minute=0),
}

# --- Security (production) ------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Every response, embedded default included. No inline script or style attribute anywhere:
# the pages have none, and the few inline blocks (Swagger UI's and Redoc's start-up scripts,
# their <style>) carry the request's nonce (templates/drf_spectacular/). `data:` images are
# Swagger UI's icons. CSP_REPORT_URI (a variable) adds a report URI.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "font-src": [csp.SELF],
        "connect-src": [csp.SELF],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
        "report-uri": env("CSP_REPORT_URI", default="") or None,
    },
}
# Django's SecurityMiddleware sends it; stated here so it is not left to a default.
SECURE_REFERRER_POLICY = "same-origin"
# Powerful browser features this platform never uses are switched off for every page.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # One JSON object per line for the log collector (LOG_FORMAT=json, production's default).
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env("LOG_FORMAT", default="json" if PRODUCTION else "plain"),
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
