"""How far the capture is behind the binlog head."""
from __future__ import annotations

import time
from typing import Any

from pssync.bus.kafka import ensure_topics
from pssync.cdc import database, identity
from pssync.cdc.binlog import parse_position
from pssync.cdc.errors import resolve_fix
from pssync.cdc.offsets import OffsetStore, RunState, SourceOffset
from pssync.cdc.snapshot import SnapshotProgress
from pssync.settings import Settings


def transactions_behind(committed: str, head: str) -> int:
    ours, theirs = parse_position(committed), parse_position(head)
    total = 0
    for domain, gtid in theirs.items():
        head_seq = int(gtid.rsplit("-", 1)[1])
        our_seq = int(ours[domain].rsplit("-", 1)[1]) if domain in ours else 0
        total += max(0, head_seq - our_seq)
    return total


def bytes_behind(files: list[tuple[str, int]], file: str, pos: int, head_file: str, head_pos: int) -> int:
    if file == head_file:
        return max(0, head_pos - pos)
    names = [f for f, _ in files]
    if file not in names:
        return -1
    sizes = dict(files)
    after = names[names.index(file) + 1:]
    return (sizes[file] - pos) + sum(sizes[f] for f in after if f != head_file) + head_pos


def run_report(alive: bool, snapshot_completed: bool, run: RunState | None) -> dict[str, Any]:
    """The capture's state: streaming only while it runs (it holds its lock on the server); else
    how its last run ended, with the reason when it failed."""
    if alive:
        return {"state": "streaming" if snapshot_completed else "snapshot in progress"}
    if run is not None and run.state == "failed":
        return {"state": "failed", "reason": run.reason,
                "failed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.ts_ms / 1000))}
    return {"state": "stopped" if snapshot_completed else "stopped (snapshot incomplete)"}


def held_report(offset: SourceOffset, database: str, table_prefix: str,
                files: list[tuple[str, int]] | None = None) -> list[dict[str, Any]]:
    """The tables held on a schema conflict: since when, why, where they resume from, the fix;
    and, given the server's binlog files, whether the binlog still has that position."""
    out = []
    for h in offset.held:
        report = {"table": f"{database}.{h.table}",
                  "held_since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(h.ts_ms / 1000)),
                  "held_at_gtid": h.at_gtid, "resumes_from": h.gtid, "subject": h.subject, "reason": h.reason,
                  "fix": resolve_fix(h.table.removeprefix(table_prefix))}
        if files is not None and h.file not in {f for f, _ in files}:
            report["warning"] = (f"binlog file {h.file} of the held position is no longer on the server "
                                 "(purged): resolving cannot read the held events again; take a new snapshot "
                                 "with `pssync cdc run --resnapshot` after registering the schema")
        out.append(report)
    return out


def capture_status(settings: Settings, store: OffsetStore) -> dict[str, Any]:
    ensure_topics(settings.kafka, {settings.capture.offsets_topic: {"cleanup.policy": "compact"}})
    offset, run = store.load_with_state()
    conn = database.connect(settings.mysql)
    try:
        head = database.binlog_head(conn)
        files = database.binlog_files(conn)
        alive = identity.running(conn, settings.capture.name)
    finally:
        conn.close()
    report: dict[str, Any] = {
        "capture": settings.capture.name,
        "binlog_head": f"{head.file}:{head.pos}",
        "head_gtid": head.gtid,
    }
    if offset is None:
        report["state"] = "never run (no committed offset)"
        return report
    report.update(run_report(alive, offset.snapshot_completed, run))
    report.update({
        "committed_gtid": offset.gtid,
        "committed_position": f"{offset.file}:{offset.pos}",
        "transactions_behind": transactions_behind(offset.gtid, head.gtid),
        "bytes_behind": bytes_behind(files, offset.file, offset.pos, head.file, head.pos),
        "last_source_commit_age_s": round(time.time() - offset.ts_ms / 1000, 1) if offset.ts_ms else None,
        "held_tables": held_report(offset, settings.mysql.database, settings.mysql.table_prefix, files),
    })
    if offset.replay is not None:
        report["resolving"] = (f"{', '.join(offset.replay.tables)}: reading the binlog again up to "
                               f"{offset.replay.until}")
    if offset.snapshot is not None and not offset.snapshot_completed:
        report.update(snapshot_report(offset.snapshot))
    return report


def snapshot_report(progress: SnapshotProgress) -> dict[str, Any]:
    """The initial snapshot under way, per table: rows in Kafka of the rows it had when counted."""
    tables = {}
    for table, done in progress.done:
        total = progress.total_of(table)
        state = "reading" if table == progress.table else "waiting" if table in progress.tables else "done"
        share = f" ({100 * done / total:.1f} %)" if total else ""
        tables[table] = f"{done}/{total if total is not None else '?'} rows{share}, {state}"
    elapsed = time.time() - progress.started_ms / 1000 if progress.started_ms else 0
    return {"snapshot_rows": progress.rows, "snapshot_chunks": progress.chunks,
            "snapshot_resumed": progress.resumed, "snapshot_after_key": progress.after_key,
            "snapshot_rows_per_s": round(progress.rows / elapsed) if elapsed > 0 else None,
            "snapshot_tables": tables}
