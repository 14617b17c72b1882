"""The site's URLs plus two trivial DRF POST views for ``bench/api_bench.py``'s floor:

- ``bench/floor/``: parses the JSON body and answers 201 with it (JSON renderer), with
  no authentication, permission, throttle or database: HTTP + gunicorn + every
  middleware + DRF's request/response cycle;
- ``bench/floor-key/``: the same behind the API's own authentication (API key lookup),
  scope permission and throttle — one SELECT for the key and the throttle's statements.

Served only by the benchmark's gunicorn (``bench.floor_settings``), never by the site.
"""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_site.urls import urlpatterns as site


class Floor(APIView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    def post(self, request):
        return Response(request.data, status=201)


class FloorWithKey(APIView):
    write_scope = "read"  # any valid key (permissions.required_scope)

    def post(self, request):
        return Response(request.data, status=201)


urlpatterns = [
    path("bench/floor/", Floor.as_view()),
    path("bench/floor-key/", FloorWithKey.as_view()),
    *site,
]
