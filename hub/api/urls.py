"""The REST API of the CRM core; other apps register their routes in hub/urls.py."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from hub.api import directory, imports, views

router = DefaultRouter()
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("deals", views.DealViewSet, basename="deal")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("users", directory.UserViewSet, basename="user")
router.register("teams", directory.TeamViewSet, basename="team")
router.register("team-memberships", directory.TeamMembershipViewSet, basename="team-membership")
router.register("tags", directory.TagViewSet, basename="tag")
router.register(
    "partner-organizations", directory.PartnerOrganizationViewSet, basename="partner-organization"
)
router.register("lead-scoring", directory.LeadScoringViewSet, basename="lead-scoring")

urlpatterns = [
    path("imports/<str:kind>/", imports.ImportView.as_view(), name="csv-import"),
    path("exports/<str:kind>/", imports.ExportView.as_view(), name="csv-export"),
]
