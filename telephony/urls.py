from django.urls import path

from telephony import views

app_name = "telephony"

urlpatterns = [
    path("twilio/voice/", views.voice, name="twilio-voice"),
    path("twilio/voice/status/", views.voice_status, name="twilio-voice-status"),
    path("twilio/voice/after-dial/", views.voice_after_dial, name="twilio-voice-after-dial"),
    path("twilio/voice/hold/", views.voice_hold, name="twilio-voice-hold"),
    path("twilio/voice/recording/", views.voice_recording, name="twilio-voice-recording"),
    path("twilio/voice/bridge/", views.voice_bridge, name="twilio-voice-bridge"),
    path("twilio/voice/goodbye/", views.voice_goodbye, name="twilio-voice-goodbye"),
    path("twilio/sms/", views.sms, name="twilio-sms"),
    path("twilio/sms/status/", views.sms_status, name="twilio-sms-status"),
    path("cti/<str:token>/", views.cti_event, name="cti-event"),
]
