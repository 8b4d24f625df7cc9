"""The Claresia app as ChatGPT connects to it: the MCP server at `/mcp` (the official MCP SDK
behind a WSGI bridge), its OAuth 2.1 authorization server on django-oauth-toolkit (registration,
client metadata documents, approval by a tenant admin), their services, selectors, admin and
urls. It records through the hub (`telemetry.hub.services`); the hub never imports it."""
