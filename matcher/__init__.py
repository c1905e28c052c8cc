"""delve-matcher: matchmaking for networks of artisanal and small-scale mining associations."""

import pluggy

__version__ = "0.1.0"

PROJECT = "delve_matcher"
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["hookimpl", "PROJECT", "__version__"]
