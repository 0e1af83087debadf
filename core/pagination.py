from rest_framework import pagination


class Pagination(pagination.PageNumberPagination):
    """Pages of 50 by default; a client may ask for up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
