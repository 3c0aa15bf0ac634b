from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from mufakat.core import views
from mufakat.core.ai import views as ai_views
from mufakat.core.jobs import views as job_views
from mufakat.core.notifications import views as inbox_views
from mufakat.core.sharing import views as sharing_views
from mufakat.core.tenancy import views as member_views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("map/", views.map_view, name="map"),
    path("search/", views.search, name="search"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/login/code/", views.login_totp, name="login_totp"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", views.twofactor_setup, name="twofactor_setup"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("accounts/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/read-all/", inbox_views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/read/", inbox_views.inbox_read, name="inbox_read"),
    path("inbox/<int:pk>/mute/", inbox_views.inbox_mute, name="inbox_mute"),
    path("inbox/mutes/<int:pk>/delete/", inbox_views.inbox_unmute, name="inbox_unmute"),
    path("sharing-groups/", views.sharing_groups, name="sharing_groups"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/<int:seq>/", views.audit_entry, name="audit_entry"),
    path("share/<str:app_label>/<str:model>/<int:pk>/", sharing_views.share, name="share"),
    # Before approve_ai, whose pattern would also match these paths.
    path("ai/approvals/", ai_views.approvals, name="ai_approvals"),
    path(
        "ai/approvals/<str:label>/<int:pk>/<str:decision>/",
        ai_views.decide,
        name="ai_decide",
    ),
    path(
        "ai/<str:app_label>/<str:model>/<int:pk>/approve/",
        sharing_views.approve_ai,
        name="approve_ai",
    ),
    path("org/members/", member_views.org_members, name="org_members"),
    path(
        "org/members/<int:pk>/roles/",
        member_views.org_member_roles,
        name="org_member_roles",
    ),
    path("jobs/", job_views.job_list, name="jobs"),
    path("jobs/<int:pk>/", job_views.job_detail, name="job"),
    path("jobs/<int:pk>/cancel/", job_views.job_cancel, name="job_cancel"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
