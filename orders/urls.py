from django.urls import path

from . import project_views
from .contract_views import agreement_pdf, contract_template_edit, contract_template_list
from .views import buyer, calls, guest, inquiries, intake, queue, screening

urlpatterns = [
    # The buyer.
    path("inquiries/new/", intake.inquiry_create, name="inquiry_create"),
    path("inquiries/mine/", buyer.my_inquiries, name="my_inquiries"),
    path("inquiries/<int:pk>/", inquiries.inquiry_detail, name="inquiry_detail"),
    path("inquiries/<int:pk>/answer/", buyer.inquiry_answer, name="inquiry_answer"),
    path("inquiries/<int:pk>/withdraw/", buyer.inquiry_withdraw, name="inquiry_withdraw"),
    path("inquiries/<int:pk>/attachments/", inquiries.attachment_upload, name="attachment_upload"),
    path(
        "inquiries/<int:pk>/attachments/<int:attachment_pk>/",
        inquiries.attachment_download,
        name="attachment_download",
    ),
    # Guests: the form, then the e-mailed confirmation link.
    path("inquiries/guest/", guest.guest_inquiry, name="guest_inquiry"),
    path(
        "inquiries/guest/confirm/<str:token>/",
        guest.guest_inquiry_confirm,
        name="guest_inquiry_confirm",
    ),
    # The secretariat: the queue and the screening, award and committee forms.
    path("inquiries/queue/", queue.inquiry_queue, name="inquiry_queue"),
    path(
        "networks/<int:network_id>/inquiries/phone/",
        intake.inquiry_phone,
        name="inquiry_phone",
    ),
    *(
        path(
            f"inquiries/<int:pk>/{action.replace('_', '-')}/",
            screening.inquiry_action,
            {"action": action},
            name=f"inquiry_{action}",
        )
        for action in screening.ACTIONS
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
    path("committee/", queue.committee_list, name="committee_list"),
    # Lead companies.
    path("calls/", calls.call_board, name="call_board"),
    path("calls/<int:pk>/", calls.call_detail, name="call_detail"),
    path("calls/<int:pk>/decline/", calls.call_decline, name="call_decline"),
    path("applications/mine/", calls.my_applications, name="my_applications"),
    path(
        "applications/<int:pk>/withdraw/",
        calls.application_withdraw,
        name="application_withdraw",
    ),
    # Projects (issue 5): the lead's board, the member's work, the buyer's acceptance.
    path("inquiries/<int:pk>/project/", project_views.project_open, name="project_open"),
    path("projects/", project_views.project_list, name="project_list"),
    path("projects/<int:pk>/", project_views.project_board, name="project_board"),
    path("projects/<int:pk>/packages/", project_views.package_add, name="package_add"),
    path("projects/<int:pk>/shipments/", project_views.shipment_send, name="shipment_send"),
    path("projects/<int:pk>/delivery/", project_views.project_delivery, name="project_delivery"),
    path("packages/<int:pk>/invite/", project_views.package_invite, name="package_invite"),
    path("packages/<int:pk>/cancel/", project_views.package_cancel, name="package_cancel"),
    path(
        "invitations/<int:pk>/withdraw/",
        project_views.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path(
        "packages/<int:pk>/self-perform/",
        project_views.package_self_perform,
        name="package_self_perform",
    ),
    path("packages/<int:pk>/standards/", project_views.standard_attach, name="standard_attach"),
    path(
        "packages/<int:pk>/late-charge/",
        project_views.package_charge_late,
        name="package_charge_late",
    ),
    path("packages/<int:pk>/start/", project_views.package_start, name="package_start"),
    path("packages/<int:pk>/deliver/", project_views.delivery_record, name="delivery_record"),
    path("agreements/<int:pk>/accept/", project_views.agreement_accept, name="agreement_accept"),
    path("standards/<int:pk>/confirm/", project_views.standard_confirm, name="standard_confirm"),
    path("standards/<int:pk>/file/", project_views.standard_file, name="standard_file"),
    path("acceptance/", project_views.buyer_projects, name="buyer_projects"),
    path("deliveries/<int:pk>/inspect/", project_views.delivery_inspect, name="delivery_inspect"),
    path("shipments/<int:pk>/accept/", project_views.shipment_accept, name="shipment_accept"),
    path("shipments/<int:pk>/claim/", project_views.shipment_claim, name="shipment_claim"),
    path("claims/<int:pk>/trace/", project_views.claim_trace, name="claim_trace"),
    path("claims/<int:pk>/resolve/", project_views.claim_resolve, name="claim_resolve"),
    path("photos/<int:pk>/", project_views.evidence_photo, name="evidence_photo"),
    path("work/", project_views.my_work, name="my_work"),
    path("work/<int:pk>/", project_views.work_package, name="work_package"),
    path(
        "invitations/<int:pk>/respond/",
        project_views.invitation_respond,
        name="invitation_respond",
    ),
]
