"""dinogui: a desktop trainer for character-level name generators.

The engine lives in the source tree's top-level `core/` folder and is installed as
`dinogui.core` (pyproject.toml maps it; in a checkout, `dinogui/core` links to it), so
the installed distribution adds only `dinogui` to site-packages.
"""

__version__ = "0.2.0"
