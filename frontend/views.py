from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from hub.models import Team
from inbox.models import Channel, Inbox


@login_required
def console(request: HttpRequest) -> HttpResponse:
    if request.user.is_partner:
        return redirect("frontend:portal")
    team_ids = request.user.teams.values_list("pk", flat=True)
    if request.user.is_supervisor:
        team_ids = Team.objects.values_list("pk", flat=True)
    return render(
        request,
        "frontend/console.html",
        {"portal": False, "team_ids": ",".join(str(pk) for pk in team_ids)},
    )


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    if not request.user.is_partner:
        raise Http404
    return render(request, "frontend/console.html", {"portal": True})


def chat_demo(request: HttpRequest, inbox_key: str) -> HttpResponse:
    """A stand-in for a customer's site that embeds the web chat widget."""
    if not Inbox.objects.filter(key=inbox_key, channel=Channel.CHAT, is_active=True).exists():
        raise Http404
    widget_url = request.build_absolute_uri(static("webchat/widget.js"))
    return render(
        request, "frontend/chat_demo.html", {"inbox_key": inbox_key, "widget_url": widget_url}
    )
