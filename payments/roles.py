"""Staff roles as Django groups (issue 3): created by a migration, re-applied by
``ensure_roles`` when a later app adds permissions."""

BILLING_ADMIN = "Billing admin"
BILLING_CLERK = "Billing clerk"
AUDITOR = "Auditor"

BILLING_APPS = ("ledger", "payments", "wallets", "events")
# API keys are credentials: only billing admins see or manage them (app label of
# ``billing_site.api``; a label, not an import). So are django-axes' login attempts:
# billing admins see them and unlock a login by deleting its attempts. Outgoing webhook
# endpoints hold signing secrets and receive every event: billing admins only too.
ADMIN_ONLY_APPS = ("api", "axes", "webhooks")
CLERK_CODENAMES = {
    "add_payment",
    "mark_paid",
    "create_receipt",
    "send_receipt",
    "assign_payment",
    "pay_from_balance",
    "top_up_wallet",
    "add_reminder",  # *Send reminder now*: chasing a late payer is daily work
}


def ensure_roles(apps=None) -> None:
    """Create or refresh the three groups. ``apps``: a migration's app registry."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # create_permissions skips an app whose models_module is unset (as in a
        # migration's registry); set it for the call and put back what was there, or the
        # global registry's apps would look model-less to every later post_migrate.
        saved = getattr(app_config, "models_module", None)  # a migration stub has none
        app_config.models_module = saved or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = saved

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    billing = permission_model.objects.filter(content_type__app_label__in=BILLING_APPS)
    view = billing.filter(codename__startswith="view_")

    admin_only = permission_model.objects.filter(content_type__app_label__in=ADMIN_ONLY_APPS)

    admin, _ = group_model.objects.get_or_create(name=BILLING_ADMIN)
    admin.permissions.set(list(billing) + list(admin_only))
    clerk, _ = group_model.objects.get_or_create(name=BILLING_CLERK)
    clerk.permissions.set(list(view) + list(billing.filter(codename__in=CLERK_CODENAMES)))
    auditor, _ = group_model.objects.get_or_create(name=AUDITOR)
    auditor.permissions.set(view)
