-- The assessment year's lifecycle: confirmation, appeals, publication snapshots, notifications.
-- Record states: recorded (待确认), confirmed (已确认), appealed (申诉中), upheld (维持),
-- revoked (撤销), changed (改判: replaced by the record whose `replaces` names it).
ALTER TABLE records ADD COLUMN confirmed_at TEXT;
ALTER TABLE records ADD COLUMN confirmed_by TEXT;
-- Days a unit has to appeal after a record's confirmation, and the office to decide an appeal.
ALTER TABLE periods ADD COLUMN appeal_days BIGINT NOT NULL DEFAULT 7;
ALTER TABLE periods ADD COLUMN decision_days BIGINT NOT NULL DEFAULT 10;
CREATE TABLE appeals (
    id BIGSERIAL PRIMARY KEY,
    year BIGINT NOT NULL,
    record_id BIGINT NOT NULL REFERENCES records(id),
    unit TEXT NOT NULL,
    reason TEXT NOT NULL,
    appealed_by TEXT NOT NULL,
    appealed_at TEXT NOT NULL,
    deadline TEXT NOT NULL,
    decision TEXT,
    decision_reason TEXT,
    decided_by TEXT,
    decided_at TEXT,
    replacement BIGINT REFERENCES records(id)
);
CREATE UNIQUE INDEX appeals_one_per_record ON appeals(record_id);
-- A published snapshot: its canonical JSON body and the SHA-256 of that body. Never changed.
CREATE TABLE publications (
    year BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (year, seq)
);
-- In-application notifications: to one unit's accounts, to the office (admins), or to one group.
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    year BIGINT NOT NULL,
    audience TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    entity TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX notifications_by_target ON notifications(audience, target, id);
-- The last notification each account has seen.
CREATE TABLE notification_seen (
    user_name TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL
);
CREATE TRIGGER publications_no_update BEFORE UPDATE ON publications
    FOR EACH ROW EXECUTE FUNCTION lvzhi_refuse('publications cannot be changed');
CREATE TRIGGER publications_no_delete BEFORE DELETE ON publications
    FOR EACH ROW EXECUTE FUNCTION lvzhi_refuse('publications cannot be removed');
