from django.urls import path

from frontend import analytics_views, sales, views

app_name = "frontend"

urlpatterns = [
    path("", views.console, name="console"),
    path("portal/", views.portal, name="portal"),
    path("sales/", sales.index, name="sales"),
    path("sales/accounts/", sales.accounts, name="sales-accounts"),
    path("sales/accounts/<int:pk>/", sales.account_detail, name="sales-account"),
    path("sales/contacts/<int:pk>/", sales.contact_detail, name="sales-contact"),
    path("sales/contacts/<int:pk>/panel/", sales.contact_panel, name="sales-contact-panel"),
    path("sales/pipeline/", sales.pipeline, name="sales-pipeline"),
    path("sales/tasks/", sales.tasks, name="sales-tasks"),
    path("chat/<slug:inbox_key>/", views.chat_demo, name="chat-demo"),
    path("dashboard/", analytics_views.dashboard, name="dashboard"),
    path("reports/", analytics_views.report, name="reports"),
    path("reports/export.<str:format>", analytics_views.report_export, name="report-export"),
    path("survey/<str:token>/", analytics_views.survey_answer, name="survey"),
]
