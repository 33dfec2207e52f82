"""Websocket routes (DESIGN §4).

The console checks Origin against ALLOWED_HOSTS and authenticates by session. The
web chat is anonymous and embeddable, so it checks Origin itself, per inbox.
"""

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from channels_app.consumers.chat import ChatConsumer
from channels_app.consumers.console import ConsoleConsumer

websocket_application = URLRouter(
    [
        path(
            "ws/console/",
            AllowedHostsOriginValidator(AuthMiddlewareStack(ConsoleConsumer.as_asgi())),
        ),
        path("ws/chat/<slug:inbox_key>/", ChatConsumer.as_asgi()),
    ]
)
