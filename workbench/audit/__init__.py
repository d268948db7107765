"""Security-aware testing of models: coverage, differential testing and decision-boundary
probing (:mod:`workbench.audit.boundary`). Qt-free; imports only ``workbench.core``."""
