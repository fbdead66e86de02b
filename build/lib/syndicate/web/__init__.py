"""The HTTP side: app factory, routes, thin handlers. Only this package imports aiohttp.web."""
