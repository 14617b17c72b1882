"""REST API routes under /api/v1/ (filled in by the API work, issue 5)."""

urlpatterns = []
