"""Bringing in what newsrooms already have: scraped article pages and existing feeds.

Pure extraction (no store, no aiohttp, no files): bytes in, the parts of article records out,
with what was dropped and why. `syndicate.pipeline.imports` stores them through the ingest path.
"""
