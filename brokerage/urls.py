urlpatterns: list = [
    # The inbox page.
]
