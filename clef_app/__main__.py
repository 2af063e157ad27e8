import sys

from clef_app.cli import main

sys.exit(main())
