"""The hub API's content negotiation: a GPT action reads JSON, so the hub always answers JSON."""

from rest_framework.negotiation import DefaultContentNegotiation


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Answers in JSON whatever `Accept` says (a GPT action reads JSON; never a 406). Parsers
    are chosen as usual, so a body that is not JSON is still a 415."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
