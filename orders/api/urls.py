from rest_framework.routers import DefaultRouter

from . import projects, views

router = DefaultRouter()
router.register("inquiries", views.InquiryViewSet, basename="inquiry")
router.register("applications", views.ApplicationViewSet, basename="application")
router.register("projects", projects.ProjectViewSet, basename="project")
router.register("packages", projects.PackageViewSet, basename="package")
router.register("invitations", projects.InvitationViewSet, basename="invitation")
router.register("agreements", projects.AgreementViewSet, basename="agreement")
urlpatterns = router.urls
