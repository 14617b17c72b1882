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


def render(obj: models.Model) -> dict:
    """``obj`` as the API shows it; a model without a renderer is a programming error."""
    label = obj._meta.label
    try:
        renderer = _renderers[label]
    except KeyError:
        raise LookupError(
            f"events: no renderer registered for {label}; the composition layer registers "
            "one per model in its AppConfig.ready (billing_site.api.apps)."
        ) from None
    return renderer(obj)


def registered() -> list[str]:
    return sorted(_renderers)


def has_renderer(obj) -> bool:
    return isinstance(obj, models.Model) and obj._meta.label in _renderers


def render_now(obj: models.Model) -> dict:
    """``obj`` as it stands in memory, not read again from the database: for a batch
    that renders rows as they stand at a step of its work (the billing run). A renderer
    without ``render_instance`` reads the row, as ``render`` does."""
    renderer = _renderers.get(obj._meta.label)
    own = getattr(renderer, "render_instance", None)
    return own(obj) if own is not None else render(obj)
