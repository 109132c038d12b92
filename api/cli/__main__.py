"""`python -m api.cli` runs the command line, as the `slogov` script does."""

import sys

from api.cli import main

sys.exit(main())
