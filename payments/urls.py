"""Member-facing pages of this app (issue 6)."""

urlpatterns = []
