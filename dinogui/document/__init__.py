"""The document the window shows, without Qt: its state and rules are plain Python, tested
without a window, and the views and controllers only read and call them.

    session          the model, its file and what no file holds yet; announces changes
    messages         what the training worker reports (progress, stops, answers)
    corpus_summary   what the window shows and checks about a corpus
    sample_request   the Sample panel's settings and the SampleSpec they make
    live_settings    settings changed while a model exists: names, traces, applying them
    name_scores      the Inspector's snapshot of the weights and its scored name lists
    favourites       drawing and scoring names, favourites, and their export
    file_kinds       what a file is (a checkpoint, a list, lists by kind); one file, two names

No module here imports Qt (tests/test_document.py checks it with Qt blocked).
"""
