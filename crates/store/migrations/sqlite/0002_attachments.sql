-- Evidence attachments: content-addressed blobs, linked to records. Append-only.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    year INTEGER NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records(id),
    hash TEXT NOT NULL REFERENCES blobs(hash),
    name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX attachments_by_record ON attachments(record_id);
CREATE TRIGGER blobs_fixed BEFORE UPDATE ON blobs
BEGIN SELECT RAISE(ABORT, 'evidence cannot be changed'); END;
CREATE TRIGGER blobs_kept BEFORE DELETE ON blobs
BEGIN SELECT RAISE(ABORT, 'evidence cannot be removed'); END;
CREATE TRIGGER attachments_kept BEFORE DELETE ON attachments
BEGIN SELECT RAISE(ABORT, 'evidence cannot be removed'); END;
