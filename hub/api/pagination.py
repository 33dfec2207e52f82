from rest_framework.pagination import PageNumberPagination


class HubPagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with `page_size` up to 500 (DESIGN §4)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
