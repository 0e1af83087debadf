"""OpenAPI descriptions of the project's own authentication classes."""

from drf_spectacular.authentication import BasicScheme


class LockoutAwareBasicScheme(BasicScheme):
    target_class = "core.auth.LockoutAwareBasicAuthentication"
