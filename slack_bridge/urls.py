from django.urls import path

from slack_bridge import views

app_name = "slack_bridge"

urlpatterns = [
    path("events/", views.events, name="events"),
]
