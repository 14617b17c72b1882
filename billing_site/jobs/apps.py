from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "billing_site.jobs"
    label = "jobs"
    verbose_name = "Jobs"
