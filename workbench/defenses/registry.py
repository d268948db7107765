"""The registry of input defenses, by id (the GUI's defense picker and the CLI list it)."""
from workbench.core.registry import Registry

DEFENSES: Registry = Registry("defense")
