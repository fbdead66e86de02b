"""HTML pages for tests: parsed into lxml trees (queried by id, XPath or CSS), their forms'
CSRF tokens, and signing in to the desk through its form as a browser would."""

from __future__ import annotations

from typing import Any

import lxml.html

from tests.helpers.clients import Client


def page(text: str) -> Any:
    """An HTML page as an lxml tree, to query by id, XPath or CSS."""
    return lxml.html.fromstring(text)


def form_csrf(text: str) -> str:
    """The CSRF token of the first form on the page that carries one."""
    found = page(text).xpath("//form//input[@name='csrf']/@value")
    assert found, "no form with a CSRF token on the page"
    return str(found[0])


async def sign_in(client: Client, secret: str) -> str:
    """Sign in to the desk through the form; returns the session's CSRF token."""
    form = await client.get("/desk/sign-in")
    assert form.status == 200, form.status
    signed = await client.post(
        "/desk/sign-in",
        data={"token": secret, "csrf": form_csrf(await form.text())},
        allow_redirects=False,
    )
    assert signed.status == 303, (signed.status, await signed.text())
    assert signed.headers["Location"] == "/desk/articles"
    articles = await client.get("/desk/articles")
    assert articles.status == 200
    return form_csrf(await articles.text())
