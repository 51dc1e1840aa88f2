"""The window's flows, each a small object the window wires to its actions and views.

    training    start, pause, step, reset, settings changes; what the worker reports
    files       open a corpus or a checkpoint, save, the recent-files menu, drops
    autosave    the periodic autosave, the offer to restore it, the write on close
    runs        the run record of the model being trained (the Runs tab)
    inspector   keeps the Inspector's snapshot of the weights current
    sampling    drawing names, copying and exporting them, favourites
    shutdown    SIGTERM/SIGHUP close the window as its Quit does

Each is handed the window and uses its session, worker, dialogs and views.
"""
