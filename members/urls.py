from django.urls import path

from . import account_views
from .views import appointments, companies, directories, home

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("login/code/", account_views.two_factor_verify, name="two_factor_verify"),
    path("logout/", account_views.LogoutView.as_view(), name="logout"),
    # Two-factor sign-in and password reset (members.accounts).
    path("account/two-factor/", account_views.two_factor, name="two_factor"),
    path("account/two-factor/setup/", account_views.two_factor_setup, name="two_factor_setup"),
    path(
        "account/two-factor/backup-codes/",
        account_views.two_factor_backup_codes,
        name="two_factor_backup_codes",
    ),
    path(
        "account/two-factor/disable/", account_views.two_factor_disable, name="two_factor_disable"
    ),
    path("password-reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        account_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        account_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Companies and their capabilities.
    path("my-company/", companies.my_company, name="my_company"),
    path("my-company/capabilities/", companies.my_capabilities, name="my_capabilities"),
    path("companies/<int:pk>/", companies.company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", companies.company_edit, name="company_edit"),
    path(
        "companies/<int:company_id>/capabilities/",
        companies.capability_list,
        name="capability_list",
    ),
    path(
        "companies/<int:company_id>/capabilities/new/",
        companies.capability_create,
        name="capability_create",
    ),
    path("capabilities/<int:pk>/edit/", companies.capability_edit, name="capability_edit"),
    path("capabilities/<int:pk>/spare/", companies.capability_spare, name="capability_spare"),
    path("capabilities/<int:pk>/delete/", companies.capability_delete, name="capability_delete"),
    # Directories for the secretariat and the committee.
    path("directory/", directories.directory_index, name="directory_index"),
    path(
        "networks/<int:network_id>/members/", directories.member_directory, name="member_directory"
    ),
    path(
        "networks/<int:network_id>/non-members/",
        directories.nonmember_directory,
        name="nonmember_directory",
    ),
    path(
        "networks/<int:network_id>/non-members/add/",
        directories.directory_add,
        name="directory_add",
    ),
    path("non-members/<int:pk>/edit/", directories.directory_edit, name="directory_edit"),
    # Lead-company appointments.
    path("appointments/", appointments.appointment_list, name="appointment_list"),
    path(
        "networks/<int:network_id>/appointments/new/",
        appointments.appointment_open,
        name="appointment_open",
    ),
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment_detail"),
    path(
        "appointments/<int:pk>/withdraw/",
        appointments.appointment_withdraw,
        name="appointment_withdraw",
    ),
    path(
        "appointments/<int:pk>/recommend/",
        appointments.appointment_recommend,
        name="appointment_recommend",
    ),
    path(
        "appointments/<int:pk>/decide/", appointments.appointment_decide, name="appointment_decide"
    ),
]
