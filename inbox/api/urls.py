from django.urls import path
from rest_framework.routers import DefaultRouter

from inbox.api import canned, routing, views

router = DefaultRouter()
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("canned-responses", canned.CannedResponseViewSet, basename="canned-response")
router.register("routing-rules", routing.RoutingRuleViewSet, basename="routing-rule")

urlpatterns = [
    path("console/state/", views.ConsoleStateView.as_view(), name="console-state"),
]
