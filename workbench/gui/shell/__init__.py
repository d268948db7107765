"""Parts of the main window's shell that live outside :mod:`workbench.gui.main_window`: the
status bar's run counters and what happens to the images and the views when the model changes."""
