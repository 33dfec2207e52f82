from django.urls import path

from frontend import analytics_views, views

app_name = "frontend"

urlpatterns = [
    path("", views.console, name="console"),
    path("portal/", views.portal, name="portal"),
    path("chat/<slug:inbox_key>/", views.chat_demo, name="chat-demo"),
    path("dashboard/", analytics_views.dashboard, name="dashboard"),
    path("reports/", analytics_views.report, name="reports"),
    path("reports/export.<str:format>", analytics_views.report_export, name="report-export"),
    path("survey/<str:token>/", analytics_views.survey_answer, name="survey"),
]
