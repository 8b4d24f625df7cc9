from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """Liveness: 200 when the process runs and the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def favicon(request):
    """/favicon.ico, which browsers ask for on every page: the static icon (resolved per request,
    so the production manifest is read only once collectstatic has written it)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
