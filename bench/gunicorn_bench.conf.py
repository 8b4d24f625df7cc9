"""Gunicorn settings of bench_hub (not ./gunicorn.conf.py, which gunicorn would read from the
working directory): no access log, so the figures measure the app and not a terminal pipe
(the production access log costs both views alike)."""

accesslog = None
errorlog = "-"
loglevel = "warning"
