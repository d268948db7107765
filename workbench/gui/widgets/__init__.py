"""Reusable views of the workbench, one widget per file; each runs alone as a demo:
``python -m workbench.gui.widgets.<name>``.

The names below are imported lazily, so that running one widget's module does not import the
others (and ``python -m`` finds the module not yet imported).
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "MaskCanvas": "canvas",
    "MaskToolbar": "canvas_toolbar",
    "TemplateItem": "mask_template",
    "Gallery": "gallery",
    "ImageTriptych": "image_triptych",
    "ConfidenceCurves": "curves",
    "TopKBars": "topk",
    "BoundaryView": "boundary",
    "RunList": "run_list",
    "AttackPanel": "attack_panel",
    "AccessSwitch": "access_switch",
    "ModelPanel": "model_panel",
    "ResultsTable": "results_table",
    "QueryHistogram": "query_histogram",
    "OracleView": "oracle_view",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
