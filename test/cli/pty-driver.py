"""Runs a command with a pseudo-terminal as its stdin and stderr, as a person at a terminal would, and types.

Usage: python3 pty-driver.py '<argv as JSON>' '<steps as JSON: [[text to wait for, keys to type], ...]>' [db]

stdout stays a pipe, so the caller can tell what reached the terminal from what a script would capture. Keys are
typed only once the awaited text has appeared, as a person would (who reads the prompt first). Prints one JSON
object: the terminal transcript (everything the terminal received, echo included), stdout, the exit status
(negative: killed by that signal), the first awaited text that never appeared (null when every step ran), and
`echoes`, whether the terminal echoed typed keys again while the command still ran after the last keys (null
when that was not looked at).

Looking after the command has ended would prove nothing: Node puts the terminal back as it found it when it
exits, even when killed by SIGINT, whatever the program did. So with a SQLite file as third argument, the
driver holds that file's write lock from the start, which stops the command at its first write (it waits up
to its busy timeout, 5 s) after the prompts; meanwhile the driver reads the terminal's settings, then lets go.
"""

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import termios
import time

argv, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
lock = None
if len(sys.argv) > 3:
    lock = sqlite3.connect(sys.argv[3], isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # in WAL mode: other connections may read, none may write
master, slave = pty.openpty()
child = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE, stderr=slave, close_fds=True)
os.close(slave)
transcript = b""
eof = False


def read_until(needle, deadline):
    """Reads the terminal until `needle` shows up (True), or until the command closed it (needle None)."""
    global transcript, eof
    while not eof and (needle is None or needle.encode() not in transcript):
        left = deadline - time.time()
        if left <= 0:
            return False
        ready, _, _ = select.select([master], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: every holder of the terminal's other side has closed it
            chunk = b""
        if chunk:
            transcript += chunk
        else:
            eof = True
    return needle is None or needle.encode() in transcript


def echo_on():
    return bool(termios.tcgetattr(master)[3] & termios.ECHO)


missing = None
for expect, keys in steps:
    if not read_until(expect, time.time() + 30):
        missing = expect
        break
    os.write(master, keys.encode())
echoes = None
if lock is not None:
    # The command turns echo back on when it closes the prompt, right after reading the last line; give it that
    # moment (well under its busy timeout), then judge only if it is still running, stopped at the lock.
    deadline = time.time() + 2
    seen = echo_on()
    while not seen and time.time() < deadline:
        time.sleep(0.01)
        seen = echo_on()
    if child.poll() is None:
        echoes = seen
    lock.execute("ROLLBACK")
    lock.close()
read_until(None, time.time() + 30)
stdout = child.stdout.read().decode()
status = child.wait()
print(
    json.dumps(
        {
            "transcript": transcript.decode(errors="replace"),
            "stdout": stdout,
            "status": status,
            "echoes": echoes,
            "missing": missing,
        }
    )
)
