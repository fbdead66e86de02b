"""Typed application keys: the one way handlers reach settings, store, cache, clock and services."""

from __future__ import annotations

from aiohttp import web

from syndicate.core.clock import Clock
from syndicate.core.config import Settings
from syndicate.pipeline.regenerate import Regenerator
from syndicate.pipeline.served import FeedCache
from syndicate.service.metrics import Metrics
from syndicate.service.push import Pusher
from syndicate.service.schedule import Scheduler
from syndicate.service.websub import WebSubPublisher
from syndicate.store.base import Store

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
CACHE = web.AppKey("cache", FeedCache)
REGENERATOR = web.AppKey("regenerator", Regenerator)
SCHEDULER = web.AppKey("scheduler", Scheduler)
PUSHER = web.AppKey("pusher", Pusher)
WEBSUB = web.AppKey("websub", WebSubPublisher)
METRICS = web.AppKey("metrics", Metrics)
# What "now" is for every handler: the clock `create_app` was given (tests pass a fixed one).
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
