"""POST /slack/events/ (DESIGN §4): checks Slack's signature, answers the
url_verification challenge, and stores the event in one row before acknowledging.
The work happens afterwards in `slack_worker`, so the answer is always fast."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from slack_bridge import actions, client


@csrf_exempt
@require_POST
def events(request: HttpRequest) -> HttpResponse:
    if len(request.body) > settings.SLACK_MAX_EVENT_BYTES:
        return HttpResponse("Event too large.", status=413, content_type="text/plain")
    valid = client.signature_is_valid(
        actions.signing_secrets(),
        request.body,
        request.headers.get("X-Slack-Request-Timestamp", ""),
        request.headers.get("X-Slack-Signature", ""),
    )
    if not valid:
        return HttpResponseForbidden("Invalid or stale Slack signature.")
    try:
        payload = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        return HttpResponse("The body is not JSON.", status=400, content_type="text/plain")
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind == "url_verification":
        return JsonResponse({"challenge": str(payload.get("challenge", ""))})
    if kind != "event_callback":
        return HttpResponse(status=204)
    try:
        actions.store_event(payload)
    except ValidationError as exc:
        return HttpResponse("; ".join(exc.messages), status=400, content_type="text/plain")
    return HttpResponse(status=200)
