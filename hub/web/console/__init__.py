"""The operations console: server-rendered pages (Jinja2) in the hub's own ASGI app.

`app.Console` holds what the pages share; `app.console_routes` and `app.console_middleware`
join it to `hub.web.app.build_app`. `gate` decides who may see what (sessions, CSRF, security
headers), `login` lets operators in and out, `pages` shows, `actions` acts, always through the
same `hub.operations` functions as `hub dlq`.
"""

__all__: list[str] = []
