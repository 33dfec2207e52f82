from django.urls import path
from rest_framework.routers import DefaultRouter

from inbox.api import views

router = DefaultRouter()
router.register("conversations", views.ConversationViewSet, basename="conversation")

urlpatterns = [
    path("console/state/", views.ConsoleStateView.as_view(), name="console-state"),
]
