from django.urls import path

from frontend import views

app_name = "frontend"

urlpatterns = [
    path("", views.console, name="console"),
    path("portal/", views.portal, name="portal"),
    path("chat/<slug:inbox_key>/", views.chat_demo, name="chat-demo"),
]
