"""Adversarial Workbench: attack and defend machine-learning models and watch it happen.

The engine (``workbench.core`` and the algorithm packages) is Qt-free; every long computation is
a generator of events that the GUI (``workbench.gui``), the command line (``workbench.cli``) and
the tests consume alike. See ARCHITECTURE.md.
"""

__version__ = "0.1.0"

# Built-in architectures register themselves with the Qt-free architecture registry in core,
# so that loaders can build them by name without core importing the zoo.
from workbench.zoo import architectures as _builtin_architectures  # noqa: E402,F401
