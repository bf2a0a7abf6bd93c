"""Run a command on a fresh pseudo-terminal, as a terminal would.

Usage: python3 pty_run.py COMMAND [ARGS...]

The command's terminal output (stdout and stderr, merged by the terminal)
is copied to our stdout. Each line read from our stdin is a key press:
"ctrl-c" writes the interrupt character (^C) to the terminal, so the
kernel's line discipline sends SIGINT to the terminal's whole foreground
process group, exactly what pressing Ctrl+C does; "sigterm" sends SIGTERM
to that process group. We exit with the command's exit code (128 + N if a
signal N killed it).
"""

import os
import pty
import select
import signal
import sys

pid, master = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

stdin = sys.stdin.buffer.raw
pending = b""
open_fds = [master, stdin]
while master in open_fds:
    readable, _, _ = select.select(open_fds, [], [])
    if master in readable:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the command and its children closed the terminal
            data = b""
        if not data:
            open_fds.remove(master)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    if stdin in readable:
        data = os.read(stdin.fileno(), 4096)
        if not data:
            open_fds.remove(stdin)
            continue
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            if line.strip() == b"ctrl-c":
                os.write(master, b"\x03")
            elif line.strip() == b"sigterm":
                os.killpg(os.tcgetpgrp(master), signal.SIGTERM)

_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
