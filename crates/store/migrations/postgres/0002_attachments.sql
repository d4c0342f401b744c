-- Evidence attachments: content-addressed blobs, linked to records. Append-only.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    mime TEXT NOT NULL,
    data BYTEA NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    year BIGINT NOT NULL,
    record_id BIGINT NOT NULL REFERENCES records(id),
    hash TEXT NOT NULL REFERENCES blobs(hash),
    name TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX attachments_by_record ON attachments(record_id);
CREATE TRIGGER blobs_fixed BEFORE UPDATE ON blobs
    FOR EACH ROW EXECUTE FUNCTION lvzhi_refuse('evidence cannot be changed');
CREATE TRIGGER blobs_kept BEFORE DELETE ON blobs
    FOR EACH ROW EXECUTE FUNCTION lvzhi_refuse('evidence cannot be removed');
CREATE TRIGGER attachments_kept BEFORE DELETE ON attachments
    FOR EACH ROW EXECUTE FUNCTION lvzhi_refuse('evidence cannot be removed');
