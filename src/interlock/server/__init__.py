"""The interlock HTTP server: the API, admission at the door, tiles, witness pushing.

Import `interlock.server.app.create_app` for the FastAPI application; this package's
`__init__` imports nothing heavy so that `interlock.client` can use `server.operator`.
"""
