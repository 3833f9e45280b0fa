import os
import sys

from .cli import main

code = main()
# The command is done and its files are written: the process ends here, without Python's
# teardown of what a build leaves in memory (0.3 s after a build). Output is flushed first.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code or 0)
