"""`syndicate demo`: load the demo articles, generate the feeds, print a token and URLs."""

from __future__ import annotations

from importlib import resources

import click

from syndicate.cli._common import _run, _settings, _Stored, _summary_line
from syndicate.core.clock import utc_now


@click.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the demo articles (idempotent), generate the feeds, print a token and URLs."""
    from syndicate.core.tokens import new_token
    from syndicate.pipeline.ingest import ingest as ingest_records
    from syndicate.pipeline.ingest import parse_records, summarise
    from syndicate.pipeline.regenerate import Regenerator
    from syndicate.pipeline.served import FeedCache

    settings = _settings(ctx)
    text = resources.files("syndicate").joinpath("demo/articles.json").read_text("utf-8")
    secret, digest = new_token()

    async def run() -> dict[str, int]:
        async with _Stored(settings) as store:
            results = await ingest_records(parse_records(text), settings, store, source="demo")
            regenerator = Regenerator(settings, store, FeedCache())
            await regenerator.load_published()
            await regenerator.regenerate()
            await regenerator.settle()
            await store.add_token(
                name="demo editor", role="editor", token_hash=digest, now=utc_now()
            )
            return summarise(results)

    totals = _run(run())
    base = settings.base_url
    click.echo(f"Demo articles: {_summary_line(totals)[9:]}")
    click.echo(f"Editor token (shown once): {secret}")
    click.echo(f"The editors' desk: {base}/desk/ (sign in with the token above)")
    click.echo("Try:")
    click.echo(f"  {base}/                      the feeds, by section")
    click.echo(f"  {base}/feeds/global/rss.xml  the Hindi 'Global' section as RSS")
    click.echo(f"  {base}/feeds/all/feed.json   every section as JSON Feed")
    click.echo(f"  curl -H 'Authorization: Bearer {secret}' {base}/api/status")
    if totals.get("rejected"):
        ctx.exit(1)
