"""The plugin manager (built-in plugins plus the ``delve_matcher`` entry-point group, the
project's own included) and the
registries its hooks fill: scorers and embedders, each plugin's registration isolated from the
others (one that raises is logged and left out; the rest still register)."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import re
from collections.abc import Callable, Iterator

import pluggy

from matcher import PROJECT, hookspecs
from matcher.errors import MatcherError
from matcher.ranking.embeddings import Embedder
from matcher.ranking.scoring import RegisteredScorer, Scorer
from matcher.settings import Settings

log = logging.getLogger(__name__)

# The distribution this project ships as: a plugin registered through its own entry points
# (plugins/proven.py) is a built-in as much as those listed here.
DISTRIBUTION = "delve-matcher"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "plugins.embedders",
    "plugins.semantic",
    "plugins.lexical",
    "plugins.category",
    "plugins.language",
    "plugins.geography",
    "plugins.commodity",
)

_pm: pluggy.PluginManager | None = None


def make_plugin_manager(load_entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh manager with the built-ins and (optionally) third-party plugins registered."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entry_points:
        for entry in importlib.metadata.entry_points(group=PROJECT):
            if entry.value in DEFAULT_PLUGINS:  # registered above already: never twice
                pm.set_blocked(entry.name)
        pm.load_setuptools_entrypoints(PROJECT)
    return pm


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, created on first use."""
    global _pm
    if _pm is None:
        _pm = make_plugin_manager()
    return _pm


def plugin_source(pm: pluggy.PluginManager, plugin: object) -> str:
    """'builtin' for the bundled plugins, else the distribution or module that provides it."""
    name = pm.get_name(plugin) or ""
    if name in DEFAULT_PLUGINS:
        return "builtin"
    for plug, dist in pm.list_plugin_distinfo():
        if plug is plugin:
            if _canonical(dist.project_name) == DISTRIBUTION:
                return "builtin"
            return f"{dist.project_name} {dist.version}"
    return name


def _canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (``Delve_Matcher`` -> ``delve-matcher``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _registrations(pm: pluggy.PluginManager, hook: str, **kwargs
                   ) -> Iterator[tuple[str, Callable[[Callable[[object], None]], None]]]:
    """Each plugin's implementation of the registration ``hook``, with its source: call it
    with a ``register`` callback. Broken plugins are the caller's to isolate."""
    for impl in getattr(pm.hook, hook).get_hookimpls():
        source = plugin_source(pm, impl.plugin)

        def call(register, _impl=impl) -> None:
            _impl.function(register=register, **kwargs)

        yield source, call


def collect_scorers(pm: pluggy.PluginManager) -> dict[str, RegisteredScorer]:
    """Every scorer the plugins register, by name, with the plugin that registered it."""
    found: dict[str, RegisteredScorer] = {}
    for source, call in _registrations(pm, "register_scorers"):
        def register(scorer: Scorer, _source: str = source) -> None:
            if not scorer.name:
                raise MatcherError(f"a scorer from {_source} has no name")
            if scorer.name in found:
                raise MatcherError(f"two scorers named {scorer.name!r}")
            found[scorer.name] = RegisteredScorer(scorer, _source)

        try:
            call(register)
        except MatcherError:
            raise
        except Exception:  # a broken plugin must not take the engine down
            log.exception("plugin %s failed to register its scorers", source)
    return found


_embedders: dict[str, Embedder] = {}


def available_embedders(pm: pluggy.PluginManager, settings: Settings) -> dict[str, Embedder]:
    """Every embedder the plugins register, by name; instances live for the process."""
    found: dict[str, Embedder] = {}
    for source, call in _registrations(pm, "register_embedders", settings=settings):
        def register(embedder: Embedder) -> None:
            if embedder.name in found:
                raise MatcherError(f"two embedders named {embedder.name!r}")
            key = f"{type(embedder).__module__}.{type(embedder).__qualname__}:{embedder.name}"
            found[embedder.name] = _embedders.setdefault(key, embedder)

        try:
            call(register)
        except MatcherError:
            raise
        except Exception:  # one broken plugin must not take the other embedders down
            log.exception("plugin %s failed to register its embedders", source)
    return found


def get_embedder(pm: pluggy.PluginManager, settings: Settings, name: str) -> Embedder:
    """The embedder called ``name``; MatcherError naming the known ones when there is none."""
    embedders = available_embedders(pm, settings)
    if name not in embedders:
        raise MatcherError(f"unknown embedder {name!r} (known: {', '.join(sorted(embedders))})")
    return embedders[name]
