"""`python -m churnops.cli`."""

import sys

from churnops.cli import main

sys.exit(main())
