import sys

from contentcheck.cli import main

sys.exit(main())
