from django.urls import path

from inbox import lead_views

urlpatterns = [
    path("<slug:inbox_key>/", lead_views.capture_lead, name="lead-capture"),
    path("<slug:inbox_key>/token/", lead_views.form_token, name="lead-form-token"),
]
