"""Pushing to partners: each change a partner would see in a pull, POSTed to its endpoints.

`destinations` holds where a partner is pushed to (adding, describing, replaying);
`delivery` the `Pusher` that signs and POSTs each change, retries and parks.
"""

from syndicate.service.push.delivery import Pusher, item_body, sign
from syndicate.service.push.destinations import (
    MEDIA_TYPES,
    DestinationError,
    check_url,
    cursor_key,
    describe,
    new_destination,
    replay,
    replay_scope,
    subscribe,
)

__all__ = [
    "MEDIA_TYPES",
    "DestinationError",
    "Pusher",
    "check_url",
    "cursor_key",
    "describe",
    "item_body",
    "new_destination",
    "replay",
    "replay_scope",
    "sign",
    "subscribe",
]
