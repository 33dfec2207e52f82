from django.urls import path

from telephony import api

urlpatterns = [
    path("calls/", api.CallListView.as_view(), name="call-list"),
    path("calls/<int:pk>/", api.CallView.as_view(), name="call-detail"),
    path("calls/<int:pk>/contact/", api.CallContactView.as_view(), name="call-contact"),
    path("contacts/<int:pk>/call/", api.ClickToCallView.as_view(), name="contact-call"),
]
