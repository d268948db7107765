"""The main window's shell, one concern per module; it knows no lab by name and builds
everything from the labs' declarations (:mod:`workbench.gui.labs.base`):

- :mod:`~workbench.gui.shell.docks` — dock layout and sizes from ``DockSpec`` declarations;
- :mod:`~workbench.gui.shell.menus` — actions and menus, with the labs' ``LabAction`` entries;
- :mod:`~workbench.gui.shell.loading` — models and images, and their file dialogs;
- :mod:`~workbench.gui.shell.model_switch` — what happens to the images when the model changes;
- :mod:`~workbench.gui.shell.recent` — the recent files;
- :mod:`~workbench.gui.shell.drops` — drag and drop of files and folders;
- :mod:`~workbench.gui.shell.settings` — geometry, layout and shared settings in QSettings;
- :mod:`~workbench.gui.shell.status` — the status bar's run counters.
"""
