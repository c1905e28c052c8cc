"""Ranking: embed, retrieve, filter, score, fuse, explain."""
