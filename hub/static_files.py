"""WhiteNoise in Daphne's async middleware chain without a thread hop per request."""

from __future__ import annotations

from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest
from whitenoise.middleware import WhiteNoiseMiddleware


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise is sync-only: in the async chain Django ran it in a worker thread
    and the rest of the chain back on the event loop, two thread hops for every
    request, static or not (a webhook's latency is what issue 10 measures). This
    looks the path up on the loop (an in-memory dict, or a file lookup in a thread
    with autorefresh) and only serves a static file in a thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any = None, settings: Any = None) -> None:
        if settings is None:
            super().__init__(get_response)
        else:
            super().__init__(get_response, settings)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> Any:
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
