"""Workflow: the match lifecycle, introductions, sensitive needs."""
