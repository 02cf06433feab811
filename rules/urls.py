"""Rule administration (namespace `rules`): rule sets, drafts, test cases, impact previews,
publishing and comparing versions. Objects are addressed by UUID; a rule by its stable ID
within a version."""

from django.urls import path

from rules import views

app_name = "rules"

urlpatterns = [
    path("", views.rule_set_list, name="list"),
    path("<uuid:rule_set_uuid>/draft/", views.draft_start, name="draft_start"),
    path("<uuid:rule_set_uuid>/compare/", views.version_compare, name="compare"),
    path("<uuid:rule_set_uuid>/cases/", views.case_list, name="case_list"),
    path("<uuid:rule_set_uuid>/cases/add/", views.case_add, name="case_add"),
    path("cases/<uuid:case_uuid>/", views.case_edit, name="case_edit"),
    path("versions/<uuid:version_uuid>/", views.version_detail, name="version"),
    path("versions/<uuid:version_uuid>/discard/", views.draft_discard, name="draft_discard"),
    path("versions/<uuid:version_uuid>/rules/add/", views.rule_add, name="rule_add"),
    path("versions/<uuid:version_uuid>/rules/<str:rule_id>/", views.rule_edit, name="rule_edit"),
    path("versions/<uuid:version_uuid>/rules/<str:rule_id>/try/", views.rule_try, name="rule_try"),
    path(
        "versions/<uuid:version_uuid>/rules/<str:rule_id>/retire/",
        views.rule_retire,
        name="rule_retire",
    ),
    path("versions/<uuid:version_uuid>/cases/", views.case_results, name="case_results"),
    path(
        "versions/<uuid:version_uuid>/cases/<uuid:case_uuid>/accept/",
        views.case_accept,
        name="case_accept",
    ),
    path("versions/<uuid:version_uuid>/impact/", views.impact_start, name="impact_start"),
    path("versions/<uuid:version_uuid>/publish/", views.publish, name="publish"),
    path("versions/<uuid:version_uuid>/submit/", views.draft_submit, name="submit"),
    path("versions/<uuid:version_uuid>/approval/", views.draft_approval, name="approval"),
    path("versions/<uuid:version_uuid>/restore/", views.version_restore, name="restore"),
    path("impact/<uuid:preview_uuid>/", views.impact_detail, name="impact"),
    path(
        "impact/<uuid:preview_uuid>/examples/<int:number>/",
        views.impact_example,
        name="impact_example",
    ),
    path("impact/<uuid:preview_uuid>/progress/", views.impact_progress, name="impact_progress"),
]
