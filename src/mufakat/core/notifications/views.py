"""Inbox pages: alert threads with filters, mark read (one / all), mute and unmute; the
language switch that also records the language alerts are written in."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import require_POST

from mufakat.core.choices import TLP
from mufakat.core.models import Membership, Organisation
from mufakat.core.notifications import inbox as box

THREADS_PER_PAGE = 25
FILTER_KEYS = ("module", "state", "severity", "unread")


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not getattr(htmx, "boosted", False)


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the inbox with the filters the form was posted from."""
    keep = {k: v for k in FILTER_KEYS if (v := request.POST.get(k, ""))}
    return redirect(reverse("core:inbox") + (f"?{urlencode(keep)}" if keep else ""))


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    f = box.InboxFilter.from_query(request.GET)
    qs = box.filtered(box.inbox(request.user), f)
    page = Paginator(box.threads(qs), THREADS_PER_PAGE).get_page(request.GET.get("page"))
    items = box.load_threads(request.user, list(page.object_list), qs)
    query = urlencode({k: v for k in FILTER_KEYS if (v := request.GET.get(k, ""))})
    context = {
        "page": page,
        "threads": items,
        "f": f,
        "query": query,
        "modules": box.modules_in(request.user),
        "states": Organisation.objects.order_by("code").values_list("code", "name"),
        "severities": [1, 2, 3, 4],
        "tlp_labels": dict(TLP.choices),
        "mutes": box.mutes(request.user).select_related("content_type"),
    }
    template = "core/inbox.html#list" if _partial(request) else "core/inbox.html"
    return render(request, template, context)


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    n = box.mark_read(request.user, pk)
    if n is None:
        raise Http404
    if n.link and not _partial(request):
        return redirect(n.link)
    if _partial(request):
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    return _back(request)


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    n = box.mark_all_read(request.user, box.InboxFilter.from_query(request.POST))
    messages.success(request, _("%d alert(s) marked read.") % n)
    return _back(request)


@login_required
@require_POST
def inbox_mute(request: HttpRequest, pk: int) -> HttpResponse:
    m = box.mute_thread(request.user, pk, whole_module=request.POST.get("scope") == "module")
    if m is None:
        raise Http404
    messages.success(
        request,
        _("No more alerts about this record.")
        if m.object_id
        else _("No more alerts from %s.") % m.module_name(),
    )
    return _back(request)


@login_required
@require_POST
def inbox_unmute(request: HttpRequest, pk: int) -> HttpResponse:
    if not box.unmute(request.user, pk):
        raise Http404
    messages.success(request, _("Alerts turned back on."))
    return _back(request)


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch; a signed-in user's choice also becomes their alert language."""
    response = i18n.set_language(request)
    lang = request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, "")
    if request.method == "POST" and request.user.is_authenticated and check_for_language(lang):
        Membership.objects.filter(user=request.user).exclude(language=lang).update(language=lang)
    return response
