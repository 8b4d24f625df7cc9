"""The Command Center: the tenant staff's pages (overview, distribution, telemetry, records).

Views parse input, call one service or selector of a lower app, and render; the tenant a page is
about comes from command_center.pages (claresia.scoping underneath).
"""
