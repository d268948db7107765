"""``python -m workbench.gui.labs.defenses``: the lab alone, on the built-in model and its samples."""
import sys

from workbench.gui.labs.defenses import DefensesLab
from workbench.gui.labs.standalone import run_lab_alone

if __name__ == "__main__":  # pragma: no cover - manual development aid
    sys.exit(run_lab_alone(DefensesLab, "Defenses lab"))
