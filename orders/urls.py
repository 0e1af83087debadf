from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views
from .contract_views import agreement_pdf, contract_template_edit, contract_template_list

urlpatterns = [
    # The buyer.
    path("inquiries/new/", views.inquiry_create, name="inquiry_create"),
    path("inquiries/mine/", views.my_inquiries, name="my_inquiries"),
    path("inquiries/<int:pk>/", views.inquiry_detail, name="inquiry_detail"),
    path("inquiries/<int:pk>/answer/", views.inquiry_answer, name="inquiry_answer"),
    path("inquiries/<int:pk>/withdraw/", views.inquiry_withdraw, name="inquiry_withdraw"),
    path("inquiries/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path(
        "inquiries/<int:pk>/attachments/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment_download",
    ),
    # Guests: the form, then the e-mailed confirmation link.
    path("inquiries/guest/", views.guest_inquiry, name="guest_inquiry"),
    path(
        "inquiries/guest/confirm/<str:token>/",
        views.guest_inquiry_confirm,
        name="guest_inquiry_confirm",
    ),
    # The secretariat: the queue and the screening, award and committee forms.
    path("inquiries/queue/", views.inquiry_queue, name="inquiry_queue"),
    path(
        "networks/<int:network_id>/inquiries/phone/",
        views.inquiry_phone,
        name="inquiry_phone",
    ),
    *(
        path(
            f"inquiries/<int:pk>/{action.replace('_', '-')}/",
            views.inquiry_action,
            {"action": action},
            name=f"inquiry_{action}",
        )
        for action in views.ACTIONS
    ),
    # Contracts: the secretariat's templates, and each agreement as a PDF.
    path(
        "networks/<int:network_id>/contracts/",
        contract_template_list,
        name="contract_template_list",
    ),
    path(
        "networks/<int:network_id>/contracts/<str:kind>/",
        contract_template_edit,
        name="contract_template_edit",
    ),
    path("agreements/<int:pk>/pdf/", agreement_pdf, name="agreement_pdf"),
    # The steering committee.
    path("committee/", views.committee_list, name="committee_list"),
    # Lead companies.
    path("calls/", views.call_board, name="call_board"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("applications/mine/", views.my_applications, name="my_applications"),
    path(
        "applications/<int:pk>/withdraw/",
        views.application_withdraw,
        name="application_withdraw",
    ),
    # A password for a guest's new account (Django's reset pages, in our look).
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="orders/password_reset_form.html",
            email_template_name="orders/password_reset_email.txt",
            subject_template_name="orders/password_reset_subject.txt",
            success_url=reverse_lazy("password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="orders/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/set/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="orders/password_set.html",
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="orders/password_set_done.html"),
        name="password_reset_complete",
    ),
]
