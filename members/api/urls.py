from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("networks", views.NetworkViewSet, basename="network")
router.register("companies", views.CompanyViewSet, basename="company")
router.register("capabilities", views.CapabilityViewSet, basename="capability")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("appointments", views.AppointmentViewSet, basename="appointment")
router.register("directory", views.DirectoryViewSet, basename="directory-entry")
router.register("processes", views.ProcessViewSet, basename="process")
router.register("materials", views.MaterialViewSet, basename="material")

urlpatterns = [path("me/", views.MeView.as_view(), name="me"), *router.urls]
