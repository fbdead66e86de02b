"""The editors' desk at `/desk/`: server-rendered pages for the newsroom (a sub-application).

Its middleware puts security headers on every desk answer and shows errors as pages; its
templates are in `web/templates/desk/`, its CSS and JavaScript in `web/static/desk/`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from syndicate.web.desk import access, importer, newsroom, pages, write
from syndicate.web.desk.common import desk_middleware
from syndicate.web.desk.session import LIMITER, SignInLimiter
from syndicate.web.desk.templating import add_filters

STATIC = Path(str(resources.files("syndicate").joinpath("web/static/desk")))


async def to_the_desk(request: web.Request) -> web.Response:
    """`/desk` is `/desk/`: the address people type, not a 404."""
    query = f"?{request.query_string}" if request.query_string else ""
    return web.Response(status=301, headers={"Location": "/desk/" + query})


def setup(app: web.Application) -> None:
    desk = web.Application(middlewares=[desk_middleware])
    desk[LIMITER] = SignInLimiter()
    add_filters(aiohttp_jinja2.get_env(app))
    route = desk.router
    route.add_get("/", pages.index, allow_head=False)
    route.add_get("/sign-in", pages.sign_in_page, allow_head=False)
    route.add_post("/sign-in", pages.sign_in)
    route.add_post("/sign-out", pages.sign_out)
    route.add_get("/articles", pages.articles, allow_head=False)
    route.add_get("/articles/{id}", pages.article, allow_head=False)
    route.add_get("/articles/{id}/edit", write.edit_article, allow_head=False)
    route.add_get("/articles/{id}/withdraw", write.withdraw_page, allow_head=False)
    route.add_post("/articles/{id}/withdraw", write.withdraw)
    route.add_get("/write", write.new_article, allow_head=False)
    route.add_post("/write", write.save_article)
    route.add_get("/import", importer.import_form, allow_head=False)
    route.add_post("/import", importer.import_submit)
    route.add_get("/sections", newsroom.sections, allow_head=False)
    route.add_post("/sections/regenerate", newsroom.regenerate)
    route.add_get("/embargoes", newsroom.embargoes, allow_head=False)
    route.add_get("/tokens", newsroom.tokens, allow_head=False)
    route.add_post("/tokens/{name}/revoke", newsroom.revoke_token)
    route.add_get("/tokens/new", access.new_token, allow_head=False)
    route.add_post("/tokens", access.create_token)
    route.add_post("/tokens/{name}/rotate", access.rotate_token)
    route.add_get("/push/new", access.new_destination, allow_head=False)
    route.add_post("/push", access.add_destination)
    route.add_post("/push/{id}/remove", access.remove_destination)
    route.add_get("/push/{id}/replay", access.replay_page, allow_head=False)
    route.add_post("/push/{id}/replay", access.replay_destination)
    # Before the sub-app, which would take `/desk` as its own (and find no page there).
    app.router.add_get("/desk", to_the_desk)
    app.add_subapp("/desk/", desk)
    # Under /static/ like the feeds' stylesheet: plain files, cacheable, no session needed.
    app.router.add_static("/static/desk/", STATIC)
