"""Request guards that hold for every URL, so that no view has to remember them."""

import re

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseNotFound

# C0 controls and DEL, except tab, line feed and carriage return (a textarea sends those).
# PostgreSQL refuses a NUL in any text value; none of the others belongs in a name, an id or a
# filter either, so each is the sender's error, not the server's.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _control_character_in(request: HttpRequest) -> str:
    """Which parameter of the request holds a control character, in words, or ""."""
    sources = [("query parameter", request.GET)]
    # Only form bodies are parsed here; other bodies (the hub API's JSON) are left unread for
    # their own parsers, which bound and validate them.
    if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
        sources.append(("form field", request.POST))
        for name, upload in request.FILES.items():
            if CONTROL_CHARACTER.search(upload.name or ""):
                return f"the name of the uploaded file “{_printable(name)}”"
    for what, params in sources:
        for name, values in params.lists():
            if CONTROL_CHARACTER.search(name) or any(CONTROL_CHARACTER.search(v) for v in values):
                return f"the {what} “{_printable(name)}”"
    return ""


def _printable(name: str) -> str:
    return CONTROL_CHARACTER.sub("\N{REPLACEMENT CHARACTER}", name)[:100]


class RejectControlCharactersMiddleware:
    """Before any view or filter sees it: a 404 for a control character (NUL, …) in the path, as
    no address of Claresia holds one (the hub answers a malformed record id the same way), and a
    400 with the reason for one in a query parameter, a form field or an uploaded file's name."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if CONTROL_CHARACTER.search(request.path):
            return HttpResponseNotFound(
                "Not found: the address holds a control character (such as NUL), which no "
                "Claresia address has.\n",
                content_type="text/plain; charset=utf-8",
            )
        where = _control_character_in(request)
        if where:
            return HttpResponseBadRequest(
                f"Bad request: {where} holds a control character (such as NUL), "
                "which Claresia accepts nowhere. Remove it and try again.\n",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
