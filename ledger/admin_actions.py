"""Object actions for the admin: a button per allowed action on the change page, a small
form or a confirmation, the service call, and a clear message.

Every action runs in one ``transaction.atomic()`` and is checked twice: the button is
shown only when ``offered(obj, user)`` says so, and the POST checks the permission again
(a forged POST without it gets 403, in the admin's look) while the service re-checks the
state under its locks. A refusal becomes a message; an action with a form shows the form
again with what staff typed, so nothing has to be entered twice.

An action form shows its context first (``context``: what is due, what is available, the
currency) so staff decide with the figures in front of them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .admin.pages import AdminLookMixin, crumbs
from .errors import BillingError
from .services import user_actor


def optional_amount(data: dict, name: str = "amount") -> str | None:
    """An action form's optional amount as the services take it: None when left empty
    (the service's default: what is due, what is left), else the decimal as a string."""
    value = data.get(name)
    return None if value in (None, "") else str(value)


@dataclass(frozen=True)
class ObjectAction:
    label: str
    permission: str | None  # "app.codename"; None: judged by ``check`` alone
    run: Callable  # (obj, actor, cleaned_data) -> result
    # Success message: a string formatted with the refreshed object's fields, or a
    # callable (target, result) -> str, or (str, message level) for a warning.
    done: str | Callable
    form: type[forms.Form] | None = None
    offered: Callable | None = None  # (obj, user) -> bool; default: has the permission
    check: Callable | None = None  # (obj, name, user) -> None or raise PermissionDenied
    refusal: Callable | None = None  # (obj) -> str | None: why it cannot run now
    form_needs_object: bool = False
    context: Callable | None = None  # (obj) -> [(label, value)]: figures shown first
    template: str | None = None  # another template for this action's page
    help: str = ""  # one sentence under the title: what the action does
    run_needs_request: bool = False  # run(obj, actor, data, request)


class ObjectActionsMixin(AdminLookMixin):
    """Add to a ModelAdmin with ``object_actions = {name: ObjectAction}``."""

    object_actions: dict[str, ObjectAction] = {}
    action_template = "admin/object_action.html"

    def _url_name(self, suffix: str) -> str:
        opts = self.model._meta
        return f"{opts.app_label}_{opts.model_name}_{suffix}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path(
                "<int:object_id>/act/<str:action>/",
                wrap(self.object_action_view),
                name=self._url_name("action"),
            )
        ]
        return own + super().get_urls()

    def may_run(self, obj, name: str, user) -> bool:
        spec = self.object_actions[name]
        if spec.permission and not user.has_perm(spec.permission):
            return False
        return spec.offered(obj, user) if spec.offered else True

    def offered_object_actions(self, obj, user) -> list[dict]:
        buttons = []
        for name, spec in self.object_actions.items():
            if self.may_run(obj, name, user):
                url = reverse(f"admin:{self._url_name('action')}", args=[obj.pk, name])
                buttons.append({"name": name, "label": spec.label, "url": url})
        return buttons

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if obj is not None:
            extra["object_actions"] = self.offered_object_actions(obj, request.user)
        return super().change_view(request, object_id, form_url, extra)

    # --- the action page ------------------------------------------------------------

    def _action_object(self, request, object_id, action):
        spec = self.object_actions.get(action)
        if spec is None:
            raise Http404("No such action.")
        obj = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        if spec.permission and not request.user.has_perm(spec.permission):
            raise PermissionDenied(f"You are not allowed to {spec.label.lower()}.")
        if spec.check:
            spec.check(obj, action, request.user)
        return spec, obj

    def _change_url(self, obj) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])

    def _run(self, request, spec: ObjectAction, obj, data: dict):
        # One transaction for the whole action: the services lock rows
        # (``select_for_update`` needs a transaction on PostgreSQL), and a use case made
        # of several services commits or rolls back as one. Work queued with
        # ``on_commit`` (emails) runs when this block exits, before the message.
        with transaction.atomic():
            actor = user_actor(request.user)
            if spec.run_needs_request:
                return spec.run(obj, actor, data, request)
            return spec.run(obj, actor, data)

    def _done(self, request, spec: ObjectAction, obj, result):
        target = result if isinstance(result, self.model) else obj
        target.refresh_from_db()
        text = (
            spec.done(target, result) if callable(spec.done) else spec.done.format(**vars(target))
        )
        text, level = text if isinstance(text, tuple) else (text, messages.SUCCESS)
        self.message_user(request, text, level)
        return HttpResponseRedirect(self._change_url(target))

    def object_action_view(self, request, object_id, action):
        spec, obj = self._action_object(request, object_id, action)
        kwargs = {"obj": obj} if spec.form_needs_object else {}
        refusal = spec.refusal(obj) if spec.refusal else None
        form = spec.form(**kwargs) if spec.form else None
        if request.method == "POST":
            if refusal:  # the state moved on since the page was drawn
                self.message_user(
                    request, f"{spec.label}: not possible now: {refusal}.", messages.ERROR
                )
                return HttpResponseRedirect(self._change_url(obj))
            form = spec.form(request.POST, **kwargs) if spec.form else None
            if form is None or form.is_valid():
                try:
                    result = self._run(request, spec, obj, form.cleaned_data if form else {})
                except BillingError as exc:
                    self.message_user(request, exc.detail, messages.ERROR)
                    if form is None:
                        return HttpResponseRedirect(self._change_url(obj))
                    # Keep what staff typed: the same form, bound, under the message.
                else:
                    return self._done(request, spec, obj, result)
        return self._action_page(request, spec, obj, form, refusal)

    def _action_page(self, request, spec: ObjectAction, obj, form, refusal):
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}: {obj}",
            "opts": opts,
            "crumbs": crumbs(opts, obj, (spec.label, None)),
            "original": obj,
            "form": form,
            "action_label": spec.label,
            "action_help": spec.help,
            "figures": spec.context(obj) if spec.context else [],
            "refusal": refusal,
            "back_url": self._change_url(obj),
            "media": self.media + (form.media if form else forms.Media()),
        }
        request.current_app = self.admin_site.name
        template = spec.template or self.action_template
        return TemplateResponse(request, template, context)
