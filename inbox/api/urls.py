from django.urls import path
from rest_framework.routers import DefaultRouter

from inbox.api import canned, routing, views, webhooks

router = DefaultRouter()
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("canned-responses", canned.CannedResponseViewSet, basename="canned-response")
router.register("routing-rules", routing.RoutingRuleViewSet, basename="routing-rule")
router.register("webhooks", webhooks.WebhookSubscriptionViewSet, basename="webhook")
router.register("webhook-deliveries", webhooks.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path("console/state/", views.ConsoleStateView.as_view(), name="console-state"),
]
