"""`python -m bench.peak_rss FILE COMMAND...`: run COMMAND, write its peak RSS in KiB to FILE,
exit with its status. Linux keeps a process's pre-exec peak across exec, so a child forked
straight from the (large) harness would report the harness's size; forked from here it cannot."""

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    out, command = argv[0], argv[1:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)  # noqa: S606 (our own command line)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    Path(out).write_text(str(usage.ru_maxrss))
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
