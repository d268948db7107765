"""Errors the engine raises for bad input. Their messages are shown to users as they are."""


class WorkbenchError(Exception):
    """Base class: an error whose message is fit to show to a user without a traceback."""


class ParameterError(WorkbenchError, ValueError):
    """A parameter is unknown, of the wrong type or out of its declared bounds."""


class ModelLoadError(WorkbenchError):
    """A model file is missing, not a model, truncated, untrusted or does not fit its architecture."""


class DataLoadError(WorkbenchError):
    """An image, folder or data set cannot be read or converted."""


class MaskError(WorkbenchError, ValueError):
    """A mask has the wrong shape or cannot be rasterized."""
