from django.urls import path
from rest_framework.routers import DefaultRouter

from . import execution, projects, views
from .contracts import AgreementPdfViewSet, ContractTemplateViewSet

router = DefaultRouter()
router.register("inquiries", views.InquiryViewSet, basename="inquiry")
router.register("applications", views.ApplicationViewSet, basename="application")
router.register("projects", projects.ProjectViewSet, basename="project")
router.register("packages", projects.PackageViewSet, basename="package")
router.register("invitations", projects.InvitationViewSet, basename="invitation")
router.register("agreements", projects.AgreementViewSet, basename="agreement")
router.register("contract-templates", ContractTemplateViewSet, basename="contract-template")
router.register("standards", execution.StandardViewSet, basename="standard")
router.register("deliveries", execution.DeliveryViewSet, basename="delivery")
router.register("shipments", execution.ShipmentViewSet, basename="shipment")
router.register("claims", execution.ClaimViewSet, basename="claim")
router.register("charges", execution.ChargeViewSet, basename="charge")
urlpatterns = router.urls
urlpatterns += [
    path("sampling-plan/", execution.SamplingPlanView.as_view(), name="sampling-plan"),
]
urlpatterns += [
    path(
        "agreements/<int:pk>/pdf/",
        AgreementPdfViewSet.as_view({"get": "pdf"}),
        name="agreement-pdf",
    ),
]
