"""The registry of evasion attacks, by id."""
from workbench.core.registry import Registry

ATTACKS: Registry = Registry("attack")
