"""Placeholder until the window lands."""


def run_app() -> int:
    print("dinogui: the window is not built yet; use `dinogui train` or `dinogui sample`")
    return 0
