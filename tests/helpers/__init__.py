"""Helpers for the tests, one module a job; test modules import what they use from them.

`paths` (files beside the checkout), `settings` (sections and the one settings builder),
`texts` and `records` (sample text and article records), `tokens`, `clients` (the app
in-process), `processes` (a real `syndicate` in a subprocess), `waiting`, `error_shape`,
`stores` and `browser` (fixtures, loaded by `conftest.py`), `feeds`, `feed_checks` and
`archives` (reader feeds), `partners`, `partner_articles` and `iptc` (partner documents),
`pages` and `readers` (HTML pages), `imports` (pages and feeds to import), `receivers` (a
partner's push endpoint) and `render_faults` (workers that fail).
"""
