import sys

from arcray.cli import main

sys.exit(main())
