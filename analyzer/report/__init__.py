"""Renderers: they turn an :class:`~analyzer.api.Analysis` into output and compute nothing new."""
