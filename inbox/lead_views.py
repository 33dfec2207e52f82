"""The public lead-capture endpoint (inbox/leads.py): a thin adapter, CORS per inbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from inbox import leads
from inbox.models import Inbox

MAX_FORM_BYTES = 64 * 1024


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is the client's to forge unless a trusted proxy
    # rewrites REMOTE_ADDR (e.g. uvicorn/daphne --proxy-headers).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _cors(request: HttpRequest, inbox: Inbox, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin", "").rstrip("/")
    if origin and origin in inbox.origins:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
    return response


def _origin_refused(request: HttpRequest, inbox: Inbox) -> bool:
    # A browser always sends Origin on a cross-site POST; a server-side post (curl, a
    # CMS plug-in) sends none and is let through to the other checks.
    origin = request.headers.get("Origin", "").rstrip("/")
    return bool(origin) and origin not in inbox.origins


def _error(request: HttpRequest, inbox: Inbox, status: int, errors: dict[str, str]) -> HttpResponse:
    return _cors(request, inbox, JsonResponse({"errors": errors}, status=status))


FormView = Callable[[HttpRequest, Inbox], HttpResponse]


def form_endpoint(method: str) -> Callable[[FormView], Callable[..., HttpResponse]]:
    """What both endpoints of a form inbox check first: the inbox exists, CORS
    preflight, the method, and the caller's Origin; the view gets the inbox."""

    def decorate(view: FormView) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def endpoint(request: HttpRequest, inbox_key: str) -> HttpResponse:
            inbox = leads.form_inbox(inbox_key)
            if inbox is None:
                return JsonResponse({"error": "No such form."}, status=404)
            if request.method == "OPTIONS":
                return _cors(request, inbox, HttpResponse(status=204))
            if request.method != method:
                return JsonResponse({"error": "Method not allowed."}, status=405)
            if _origin_refused(request, inbox):
                return JsonResponse({"error": "This origin may not use the form."}, status=403)
            return view(request, inbox)

        return endpoint

    return decorate


@form_endpoint("GET")
def form_token(request: HttpRequest, inbox: Inbox) -> HttpResponse:
    return _cors(request, inbox, JsonResponse({"form_token": leads.issue_form_token(inbox)}))


@form_endpoint("POST")
def capture_lead(request: HttpRequest, inbox: Inbox) -> HttpResponse:
    if len(request.body) > MAX_FORM_BYTES:
        return _error(request, inbox, 413, {"form": "The form is too large."})
    try:
        leads.check_rate_limit(_client_ip(request))
    except leads.RateLimited:
        return _error(request, inbox, 429, {"form": "Too many submissions; try again later."})
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return _error(request, inbox, 400, {"form": "The body is not valid JSON."})
    else:
        data = request.POST
    try:
        lead = leads.check_lead(inbox, data)
    except leads.SpamSuspected:
        return _cors(request, inbox, JsonResponse({"status": "accepted"}, status=202))
    except ValidationError as exc:
        return _error(request, inbox, 400, {k: " ".join(v) for k, v in exc.message_dict.items()})
    received = leads.do_capture_lead(inbox, lead)
    return _cors(
        request,
        inbox,
        JsonResponse(
            {"status": "accepted"},
            status=201 if received.created else 200,
        ),
    )
