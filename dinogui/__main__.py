import sys

from dinogui.cli import main

sys.exit(main())
