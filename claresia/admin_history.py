"""The admin's history: every custom admin view and action records who did what to which object
as a `LogEntry`, so that the object's *History* page tells it like an ordinary edit does."""

from collections.abc import Iterable

from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Model
from django.http import HttpRequest


def admin_history_log(
    request: HttpRequest, objects: Iterable[Model], message: str, *, flag: int = CHANGE
) -> list[LogEntry]:
    """One history entry per object, by the request's user, with a short human `message`.

    An action on many objects (an import, a bulk action) logs against each object it touched."""
    objects = list(objects)
    if not objects:
        return []
    return LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=objects, action_flag=flag, change_message=message
    )
