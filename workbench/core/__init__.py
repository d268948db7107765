"""Qt-free foundations: model handles and loaders, images and datasets, masks, parameter
declarations, events, registries, run records and device choice.

Nothing in this package imports another workbench package.
"""
