"""The window's flows, each a small object the window wires to its actions and views.

    shell       what every flow shares: session, worker, tasks, dialogs, settings, notes
    training    start, pause, step, reset, settings changes; what the worker reports
    files       open a corpus or a checkpoint, save, the recent-files menu, drops
    autosave    the periodic autosave, the offer to restore it, the write on close
    runs        the run record of the model being trained (the Runs tab)
    inspector   keeps the Inspector's snapshot of the weights current
    name_list   scores the Inspector's list of names (read, scored, nearest names)
    sampling    drawing names, copying and exporting them, favourites
    lr_find     Training > Find Learning Rate
    generator_export  File > Export Generator
    shutdown    SIGTERM/SIGHUP close the window as its Quit does

Each is handed the Shell and the few views it uses, never the window (tests/test_document.py
reads their sources for it): the window lays out the views and wires them.
"""
