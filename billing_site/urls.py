from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Billfold"
admin.site.site_title = "Billfold back-office"
admin.site.index_title = "Billing"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
