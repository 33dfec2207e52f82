"""Sales views: accounts, contacts, the deal pipeline and tasks, for company staff.

Plain server-rendered pages; every read goes through the owning app's visibility
functions, every write goes through the REST API from the page's ES module."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from hub.models import Account, Contact, Deal, DealStage, Task, TaskStatus
from inbox.visibility import visible_conversations
from kb_documents.visibility import visible_documents, visible_notes

LIST_LIMIT = 200


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sales, agents, supervisors and admins; partners (and anyone else) get 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_internal:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


@staff_only
def index(request: HttpRequest) -> HttpResponse:
    return redirect("frontend:sales-accounts")


@staff_only
def accounts(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    account_list = Account.objects.select_related("owner").order_by("name", "id")
    contact_list = Contact.objects.select_related("account").order_by("name", "id")
    if query:
        account_list = account_list.filter(Q(name__icontains=query) | Q(domain__icontains=query))
        contact_list = contact_list.filter(
            Q(name__icontains=query)
            | Q(emails__address__icontains=query)
            | Q(account__name__icontains=query)
        ).distinct()
    return render(
        request,
        "frontend/sales/accounts.html",
        {
            "section": "accounts",
            "query": query,
            "accounts": account_list[:LIST_LIMIT],
            "contacts": contact_list[:LIST_LIMIT],
        },
    )


def _conversations(user: Any, **filters: Any) -> QuerySet:
    return visible_conversations(user).filter(**filters).order_by("-created_at", "-id")[:50]


def contact_profile(user: Any, contact: Contact) -> dict[str, Any]:
    """Everything the profile panel and the contact page show about one contact."""
    related = Contact.objects.none()
    if contact.account_id:
        related = contact.account.contacts.exclude(pk=contact.pk).order_by("name")[:20]
    deals = Deal.objects.filter(contact=contact)
    if contact.account_id:
        deals = Deal.objects.filter(Q(contact=contact) | Q(account_id=contact.account_id))
    deals = deals.exclude(stage__in=[DealStage.WON, DealStage.LOST]).select_related("owner")
    return {
        "contact": contact,
        "account": contact.account,
        "related_contacts": related,
        "deals": deals.order_by("-created_at", "-id"),
        "notes": visible_notes(user).filter(contact=contact).order_by("-created_at")[:20],
        "documents": visible_documents(user).filter(contact=contact).order_by("-created_at")[:20],
        "conversations": _conversations(user, contact=contact),
    }


@staff_only
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    user = request.user
    return render(
        request,
        "frontend/sales/account.html",
        {
            "section": "accounts",
            "account": account,
            "contacts": account.contacts.order_by("name"),
            "deals": account.deals.select_related("owner").order_by("-created_at"),
            "notes": visible_notes(user).filter(account=account).order_by("-created_at")[:50],
            "documents": visible_documents(user)
            .filter(account=account)
            .order_by("-created_at")[:50],
            "conversations": _conversations(user, contact__account=account),
            "link_field": "account",
            "link_id": account.pk,
            "link_account": account.pk,
            "deal_stages": DealStage.choices,
        },
    )


@staff_only
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=pk)
    context = contact_profile(request.user, contact)
    context.update(
        {
            "section": "accounts",
            "link_field": "contact",
            "link_id": contact.pk,
            "link_account": contact.account_id or "",
            "link_contact": contact.pk,
            "deal_stages": DealStage.choices,
        }
    )
    return render(request, "frontend/sales/contact.html", context)


@staff_only
def contact_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The profile panel beside a conversation in the console: an HTML fragment."""
    contact = get_object_or_404(Contact.objects.select_related("account"), pk=pk)
    context = contact_profile(request.user, contact)
    context["current_conversation"] = request.GET.get("conversation", "")
    return render(request, "frontend/sales/_profile_panel.html", context)


@staff_only
def pipeline(request: HttpRequest) -> HttpResponse:
    deals = Deal.objects.select_related("account", "owner").order_by("-created_at", "-id")
    if request.GET.get("owner") == "me":
        deals = deals.filter(owner=request.user)
    by_stage: dict[str, list[Deal]] = {stage: [] for stage in DealStage.values}
    for deal in deals[:1000]:
        by_stage.setdefault(deal.stage, []).append(deal)
    columns = [
        {"stage": stage, "label": label, "deals": by_stage[stage]}
        for stage, label in DealStage.choices
    ]
    return render(
        request,
        "frontend/sales/pipeline.html",
        {
            "section": "pipeline",
            "columns": columns,
            "stages": DealStage.choices,
            "mine": request.GET.get("owner") == "me",
        },
    )


@staff_only
def tasks(request: HttpRequest) -> HttpResponse:
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    show_done = request.GET.get("done") == "1"
    task_list = Task.objects.select_related("assignee", "account", "contact", "deal")
    if scope == "mine":
        task_list = task_list.filter(assignee=request.user)
    if not show_done:
        task_list = task_list.filter(status=TaskStatus.OPEN)
    return render(
        request,
        "frontend/sales/tasks.html",
        {
            "section": "tasks",
            "scope": scope,
            "show_done": show_done,
            "tasks": task_list.order_by("due_at", "id")[:LIST_LIMIT],
        },
    )
