"""Built-in plugins of delve-matcher: embedders and scorers, one small module each."""
