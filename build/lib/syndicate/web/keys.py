"""Typed application keys: the one way handlers reach settings, store, cache and services."""

from __future__ import annotations

from aiohttp import web

from syndicate.config import Settings
from syndicate.metrics import Metrics
from syndicate.push import Pusher
from syndicate.regenerate import Regenerator
from syndicate.schedule import Scheduler
from syndicate.served import FeedCache
from syndicate.store.base import Store
from syndicate.websub import WebSubPublisher

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
CACHE = web.AppKey("cache", FeedCache)
REGENERATOR = web.AppKey("regenerator", Regenerator)
SCHEDULER = web.AppKey("scheduler", Scheduler)
PUSHER = web.AppKey("pusher", Pusher)
WEBSUB = web.AppKey("websub", WebSubPublisher)
METRICS = web.AppKey("metrics", Metrics)
