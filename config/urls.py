from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from core import api_docs, health

api_v1 = [
    path("", include("members.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("brokerage.api.urls")),
    path("", include("billing.api")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs.swagger_ui, name="api-docs"),
    path("api/redoc/", api_docs.redoc, name="api-redoc"),
    # One login for everyone, with the two-factor step: the admin's own login form would
    # sign a staff user in on the password alone (members.account_views.LoginView).
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("", include("orders.urls")),
    path("billing/", include("billing.urls")),
    path("", include("brokerage.urls")),
    path("", include("members.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "core.api.not_found"
handler500 = "core.api.server_error"
