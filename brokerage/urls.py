from django.urls import path

from . import partner_views, record_views, referral_views, views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.notification_read_all, name="notification_read_all"),
    path("inbox/<int:pk>/read/", views.notification_read, name="notification_read"),
    # Referral: the secretariat's screens, and the target's page at its signed link.
    path("referrals/", referral_views.referral_list, name="referral_list"),
    path("referrals/<int:pk>/", referral_views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/send/", referral_views.referral_send, name="referral_send"),
    path("referrals/<int:pk>/candidates/", referral_views.referral_add, name="referral_add"),
    path("referrals/<int:pk>/share/", referral_views.referral_share, name="referral_share"),
    path(
        "referrals/inquiry/<int:inquiry_pk>/",
        referral_views.referral_for_inquiry,
        name="referral_for_inquiry",
    ),
    path("referral/respond/<str:token>/", referral_views.referral_respond, name="referral_respond"),
    # The service level: inquiries at risk of missing the limit.
    path("service-level/", referral_views.service_level, name="service_level"),
    # The order record (受注実績): the staff's dashboard, CSV, probation; a member's scorecard.
    path("record/", record_views.record_index, name="record_index"),
    path("record/<int:network_id>/", record_views.record_dashboard, name="record_dashboard"),
    path("record/<int:network_id>/record.csv", record_views.record_csv, name="record_csv"),
    path(
        "record/<int:network_id>/scorecards.csv",
        record_views.scorecards_csv,
        name="record_scorecards_csv",
    ),
    path(
        "record/<int:network_id>/probation/",
        record_views.probation_page,
        name="record_probation",
    ),
    path("record/probations/<int:pk>/lift/", record_views.probation_lift, name="probation_lift"),
    path("my-scorecard/", record_views.my_scorecard, name="my_scorecard"),
    # Partners (API keys, webhooks): the secretariat's pages.
    path("partners/", partner_views.partner_list, name="partner_list"),
    path("partners/<int:pk>/", partner_views.partner_detail, name="partner_detail"),
    path("partners/<int:pk>/toggle/", partner_views.partner_toggle, name="partner_toggle"),
    path("partners/<int:pk>/keys/", partner_views.api_key_create, name="partner_key_create"),
    path(
        "partners/<int:pk>/keys/<str:prefix>/revoke/",
        partner_views.api_key_revoke,
        name="partner_key_revoke",
    ),
    path(
        "partners/<int:pk>/endpoints/",
        partner_views.webhook_endpoint_create,
        name="partner_endpoint_create",
    ),
    path(
        "partners/<int:pk>/endpoints/<int:endpoint_pk>/toggle/",
        partner_views.webhook_endpoint_toggle,
        name="partner_endpoint_toggle",
    ),
    path(
        "partners/<int:pk>/endpoints/<int:endpoint_pk>/rotate/",
        partner_views.webhook_endpoint_rotate,
        name="partner_endpoint_rotate",
    ),
    path("partners/<int:pk>/deliveries/", partner_views.delivery_log, name="partner_deliveries"),
    path(
        "partners/<int:pk>/deliveries/<int:delivery_pk>/resend/",
        partner_views.delivery_resend,
        name="partner_delivery_resend",
    ),
]
