"""The user administrator's pages (`accounts:` namespace, under /people/)."""

from django.urls import path

from screening.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.user_list, name="user_list"),
    path("invite/", views.user_invite, name="user_invite"),
    path("<int:user_id>/", views.user_detail, name="user_detail"),
    path("<int:user_id>/roles/", views.user_roles, name="user_roles"),
    path("<int:user_id>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("<int:user_id>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("<int:user_id>/mfa-reset/", views.user_mfa_reset, name="user_mfa_reset"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
]
