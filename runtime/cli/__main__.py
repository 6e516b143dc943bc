"""``python -m hamlet.runtime.cli``: the ``hamlet`` command (the web viewer runs it so)."""

import sys

from . import main

sys.exit(main())
