"""The HTTP layer: a thin FastAPI app that turns requests into engine calls and back.

Build it with :func:`api.app.create_app`; nothing is opened at import time.
"""
