"""The demo shop that ``flexorm serve`` runs when given no database.

It ships inside the package (not only in the repository's ``examples/shop``, which re-exports
it) so that ``flexorm serve`` finds it however flexorm was installed.
"""
