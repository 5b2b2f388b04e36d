"""Running one ``tswren`` CLI job process: stderr to a logger as it comes, stdout kept, SIGTERM to cancel."""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
from collections import deque
from typing import Callable
from dataclasses import dataclass, field


@dataclass
class JobOutcome:
    """How a ``tswren`` process ended."""

    #: the exit code (negative: killed by that signal)
    returncode: int
    #: everything it printed on stdout
    stdout: str
    #: its last stderr lines (the coded error is the last one)
    stderr_tail: list[str] = field(default_factory=list)


class JobProcess:
    """One ``tswren`` job process.

    :param argv: the command line
    :param env: its environment (holds ``TSWREN_CONFIG``; never logged)
    :param cwd: its working directory
    :param log: the task log (for this class's own messages)
    :param on_line: called with each stderr line as it is printed
    """

    #: seconds ``terminate()`` waits after SIGTERM for the CLI to cancel its job before SIGKILL
    TERMINATE_GRACE_S = 60.0

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, log: logging.Logger,
                 on_line: Callable[[str], None]) -> None:
        self._argv = argv
        self._env = env
        self._cwd = cwd
        self._log = log
        self._on_line = on_line
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._terminated = False
        #: set once the process has started (``terminate()`` before that prevents the start)
        self.started = threading.Event()

    def run(self) -> JobOutcome:
        """Start the process, stream its stderr to the log, and wait for it to end."""
        with self._lock:
            if self._terminated:
                return JobOutcome(-signal.SIGTERM, "", ["tswren: TSWREN_CANCELLED: the task was killed before the job started"])
            self._proc = subprocess.Popen(
                self._argv, env=self._env, cwd=self._cwd, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            )
        self.started.set()
        proc = self._proc
        chunks: list[str] = []
        reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else ""), daemon=True)
        reader.start()
        tail: deque[str] = deque(maxlen=40)
        assert proc.stderr is not None
        for line in proc.stderr:
            line = line.rstrip("\n")
            tail.append(line)
            self._on_line(line)
        returncode = proc.wait()
        reader.join()
        return JobOutcome(returncode, "".join(chunks), list(tail))

    def terminate(self) -> None:
        """Send SIGTERM (the CLI cancels the job's calls and exits 1); SIGKILL after the grace time."""
        with self._lock:
            self._terminated = True
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        self._log.info("sending SIGTERM to tswren (pid %d) to cancel its job", proc.pid)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=self.TERMINATE_GRACE_S)
        except subprocess.TimeoutExpired:
            self._log.warning("tswren (pid %d) did not exit %.0f s after SIGTERM; killing it", proc.pid, self.TERMINATE_GRACE_S)
            proc.kill()
