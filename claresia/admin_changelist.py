"""A changelist that answers junk in its date drill-down like any other invalid filter."""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


class BoundedChangeList(ChangeList):
    """Django's date drill-down (`date_hierarchy`) computes the end of the chosen year, month or
    day outside its own validation: at the calendar's end (9999) or past what a date holds, that
    is an OverflowError or a ValueError, a 500. Here it is an invalid filter: the changelist's
    usual redirect with `?e=1`."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class BoundedChangeListMixin:
    """ModelAdmin mixin: the changelist is a `BoundedChangeList`."""

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList
