"""Qt-free foundations: model handles and loaders, model sources (how a model is named and
loaded: :mod:`workbench.core.source`), images and datasets, masks, parameter declarations,
events, attack goals (:mod:`workbench.core.goals`), registries, run records and device choice.

Nothing in this package imports another workbench package.
"""
