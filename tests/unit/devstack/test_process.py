"""deploy/devstack/process.py: telling a started service from a stale pid."""
from __future__ import annotations

import os

from pssync.devstack import process


def fake_proc(tmp_path, pid: int, state: str, cmdline: bytes) -> None:
    entry = tmp_path / str(pid)
    entry.mkdir()
    (entry / "stat").write_text(f"{pid} (java) {state} 1 2 3\n")
    (entry / "cmdline").write_bytes(cmdline)


def test_a_process_in_exec_with_no_cmdline_yet_is_alive_and_others_are_told_apart(tmp_path, monkeypatch):
    monkeypatch.setattr(process, "PROC", tmp_path)
    pid = 2**22 + os.getpid()          # no child of ours: nothing to reap
    fake_proc(tmp_path, pid, "R", b"")
    assert process.is_alive(pid, "kafka.Kafka")                         # just spawned, execve not done
    fake_proc(tmp_path, pid + 1, "S", b"/usr/bin/java\0kafka.Kafka\0server.properties\0")
    assert process.is_alive(pid + 1, "kafka.Kafka")
    fake_proc(tmp_path, pid + 2, "S", b"/usr/bin/python3\0something-else\0")
    assert not process.is_alive(pid + 2, "kafka.Kafka")                # a reused pid: not ours
    fake_proc(tmp_path, pid + 3, "Z", b"")
    assert not process.is_alive(pid + 3, "kafka.Kafka")                # exited, not yet reaped
    assert not process.is_alive(pid + 4, "kafka.Kafka")                # no such process
