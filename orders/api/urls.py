from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("inquiries", views.InquiryViewSet, basename="inquiry")
router.register("applications", views.ApplicationViewSet, basename="application")
urlpatterns = router.urls
