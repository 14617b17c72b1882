"""Gateway webhooks: for gateways, no session, no CSRF. The signature is checked by
``payments.services.webhooks.receive``, which answers every outcome (never a 500)."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from payments.gateways.base import SIGNATURE_HEADER
from payments.services.webhooks import receive

MAX_BODY = 64 * 1024


@csrf_exempt
def webhook(request, name: str):
    if request.method != "POST":
        return JsonResponse(
            {"error": "method_not_allowed", "detail": "POST only.", "field": None}, status=405
        )
    if len(request.body) > MAX_BODY:
        return JsonResponse(
            {"error": "too_large", "detail": "Body too large.", "field": None}, status=400
        )
    status, body = receive(name, request.body, request.headers.get(SIGNATURE_HEADER))
    return JsonResponse(body, status=status)
