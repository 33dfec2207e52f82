"""Project URL wiring: the one place that knows every app (DESIGN §2)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from hub.api.urls import router as hub_router
from hub.api.urls import urlpatterns as hub_api_urls
from hub.auth_views import LoginView
from hub.health import healthz
from inbox.api.urls import router as inbox_router
from inbox.api.urls import urlpatterns as inbox_api_urls
from kb_documents.api.urls import router as kb_router
from kb_documents.api.urls import urlpatterns as kb_api_urls
from mail.api_urls import router as mail_router
from slack_bridge.api_urls import router as slack_router

api_router = DefaultRouter()
for router in (hub_router, inbox_router, kb_router, mail_router, slack_router):
    api_router.registry.extend(router.registry)

admin.site.site_header = "Contact-center hub"
admin.site.site_title = "Contact-center hub admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include(hub_api_urls)),
    path("api/v1/", include(inbox_api_urls)),
    path("api/v1/", include(kb_api_urls)),
    path("api/v1/", include("telephony.api_urls")),
    path("api/v1/", include(api_router.urls)),
    path("telephony/", include("telephony.urls")),
    path("slack/", include("slack_bridge.urls")),
    path("leads/", include("inbox.lead_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("frontend.urls")),
]
