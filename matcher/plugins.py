"""The plugin manager: built-in plugins plus the ``delve_matcher`` entry-point group."""

from __future__ import annotations

import importlib
import logging

import pluggy

from matcher import PROJECT, hookspecs

log = logging.getLogger(__name__)

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
            return f"{dist.project_name} {dist.version}"
    return name
