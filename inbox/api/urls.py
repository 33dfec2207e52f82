from django.urls import path
from rest_framework.routers import DefaultRouter

from inbox import reports
from inbox.api import analytics, attachments, canned, routing, service_levels, views, webhooks

router = DefaultRouter()
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("canned-responses", canned.CannedResponseViewSet, basename="canned-response")
router.register("routing-rules", routing.RoutingRuleViewSet, basename="routing-rule")
router.register("webhooks", webhooks.WebhookSubscriptionViewSet, basename="webhook")
router.register("webhook-deliveries", webhooks.WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("sla-policies", service_levels.SlaPolicyViewSet, basename="sla-policy")
router.register("business-hours", service_levels.BusinessHoursViewSet, basename="business-hours")
router.register("surveys", analytics.SurveyViewSet, basename="survey")

urlpatterns = [
    path("console/state/", views.ConsoleStateView.as_view(), name="console-state"),
    path(
        "attachments/<int:pk>/download/",
        attachments.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    path("metrics/", analytics.MetricIndexView.as_view(), name="metric-index"),
    *[
        path(
            f"metrics/{metric}/",
            analytics.metric_view(metric).as_view(),
            name=f"metric-{metric.replace('_', '-')}",
        )
        for metric in reports.METRICS
    ],
]
