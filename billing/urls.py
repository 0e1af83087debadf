"""The settlement pages, under /billing/."""

from django.urls import path

from . import views

urlpatterns = [
    path("runs/", views.run_list_page, name="billing_runs"),
    path("runs/<int:pk>/", views.run_detail_page, name="billing_run"),
    path("runs/<int:pk>/restart/", views.run_restart, name="billing_run_restart"),
    path("invoices/", views.lead_invoices, name="billing_lead_invoices"),
    path("statements/", views.member_statements, name="billing_statements"),
    path("my-invoices/", views.buyer_invoices, name="billing_buyer_invoices"),
    path("ledger/", views.ledger_page, name="billing_ledger"),
    path("ledger/<int:company_id>/", views.ledger_page, name="billing_company_ledger"),
    path("ledger.pdf", views.ledger_pdf, name="billing_ledger_pdf"),
    path("ledger/<int:company_id>.pdf", views.ledger_pdf, name="billing_company_ledger_pdf"),
    path("documents.csv", views.documents_csv, name="billing_documents_csv"),
    path("documents/<int:pk>/", views.document_detail, name="billing_document"),
    path("documents/<int:pk>/pdf/", views.document_pdf, name="billing_document_pdf"),
    path("documents/<int:pk>/csv/", views.document_csv, name="billing_document_csv"),
]
