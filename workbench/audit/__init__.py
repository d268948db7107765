"""Security-aware testing of models: coverage, differential testing and decision-boundary
probing (:mod:`workbench.audit.boundary`), and the single-image live run that watches an attack
cross the boundary (:mod:`workbench.audit.live`). Qt-free; imports only ``workbench.core`` today
(the layer contracts allow ``attacks`` and ``zoo`` below it)."""
