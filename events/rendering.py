"""How an event shows the objects it concerns: a registry of renderers per model.

The domain apps must not import DRF, so the composition layer registers, at start-up
(``billing_site.api.apps.ApiConfig.ready``), one renderer per model that renders an
instance exactly as the REST API's GET shows it (JSON-ready: money as
``{"amount": "75.00", "currency": "GBP"}`` strings, never floats). ``emit`` renders
through it inside the operation's transaction, so the payload is the object as it
stands at that moment, the operation's own writes included.
"""

from collections.abc import Callable

from django.db import models

Renderer = Callable[[models.Model], dict]

_renderers: dict[str, Renderer] = {}


def _label(model: type[models.Model] | str) -> str:
    return model if isinstance(model, str) else model._meta.label


def register(model: type[models.Model] | str, renderer: Renderer) -> None:
    """Render instances of ``model`` (a class or ``"app_label.Model"``) with ``renderer``."""
    _renderers[_label(model)] = renderer


def _renderer(obj: models.Model) -> Renderer:
    label = obj._meta.label
    try:
        return _renderers[label]
    except KeyError:
        raise LookupError(
            f"events: no renderer registered for {label}; the composition layer registers "
            "one per model in its AppConfig.ready (billing_site.api.apps)."
        ) from None


def render(obj: models.Model) -> dict:
    """``obj`` as the API shows it, read afresh; a model without a renderer is a
    programming error."""
    return _renderer(obj)(obj)


def renders_row(obj: models.Model) -> bool:
    """Whether ``obj``'s renderer shows nothing but its row's columns, and so can render
    an instance as it is (``render_instance``) once ``emit`` has checked that the row
    holds its values (``events.snapshot``). A renderer says so with a true
    ``renders_row`` attribute and a ``render_instance(obj)`` method."""
    return bool(getattr(_renderer(obj), "renders_row", False))


def render_instance(obj: models.Model) -> dict:
    """``obj`` as the API shows it, from its own values, without reading it again."""
    return _renderer(obj).render_instance(obj)


def registered() -> list[str]:
    return sorted(_renderers)


def has_renderer(obj) -> bool:
    return isinstance(obj, models.Model) and obj._meta.label in _renderers
