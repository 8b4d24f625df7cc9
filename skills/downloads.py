"""One way to hand an export to the browser, for the admin and the Command Center alike."""

from django.http import HttpResponse


def zip_attachment(result) -> HttpResponse:
    """An export result (`archive()`, `archive_name`) as a ZIP download."""
    response = HttpResponse(result.archive(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{result.archive_name}"'
    return response
