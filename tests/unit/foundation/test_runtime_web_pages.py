"""A service's HTTP port serves casetrail's pages only, never Faust's table views (issue 17).

Faust mounts ``/table/<name>/...`` (every table's keys and values: triage's customer
history, the router's conversations), ``/router`` and a stats index by default, with no
authentication. These read the routes of the real aiohttp application Faust builds.
"""

import asyncio

from casetrail.runtime import Service
from casetrail.settings import CasetrailSettings


def _routes() -> set[str]:
    async def build():
        service = Service("webpages", config=CasetrailSettings())
        service.table("history")
        app = service.app
        app.web.init_server()  # registers the blueprints and casetrail's pages, as on start
        return {resource.canonical for resource in app.web.web_app.router.resources()}

    return asyncio.run(build())


def test_only_casetrails_pages_are_served():
    routes = _routes()
    # "/" is Faust's production index ({"status": "OK"}), served in place of its statistics page.
    assert routes == {"/", "/metrics", "/healthz", "/readyz"}
