"""Websocket routes (DESIGN §4).

The console checks Origin against ALLOWED_HOSTS and authenticates by session (read
once at connect: channels_app.sessions). The
web chat is anonymous and embeddable, so it checks Origin itself, per inbox.
"""

from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from channels_app.consumers.chat import ChatConsumer
from channels_app.consumers.console import ConsoleConsumer
from channels_app.sessions import read_only_session_auth

websocket_application = URLRouter(
    [
        path(
            "ws/console/",
            AllowedHostsOriginValidator(read_only_session_auth(ConsoleConsumer.as_asgi())),
        ),
        path("ws/chat/<slug:inbox_key>/", ChatConsumer.as_asgi()),
    ]
)
