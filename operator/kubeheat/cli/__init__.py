"""Command-line layer: the ``kubeheat`` console script.

It owns argument parsing, reading template, environment and parameter files from disk into the
pure template layer's inputs, and rendering results as tables, JSON or YAML with Heat's shapes.
"""
