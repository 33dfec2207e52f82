"""The REST API of the CRM core; other apps register their routes in hub/urls.py."""

from rest_framework.routers import DefaultRouter

from hub.api import views

router = DefaultRouter()
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("deals", views.DealViewSet, basename="deal")
router.register("tasks", views.TaskViewSet, basename="task")
