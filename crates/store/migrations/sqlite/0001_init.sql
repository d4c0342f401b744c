-- Lvzhi schema, SQLite. Points are integer hundredths; times are RFC 3339 UTC text; nothing is a float.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    unit TEXT,
    grp TEXT,
    password_hash TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    password_changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE rubrics (
    hash TEXT PRIMARY KEY,
    rubric_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE periods (
    year INTEGER PRIMARY KEY,
    rubric_hash TEXT NOT NULL REFERENCES rubrics(hash),
    status TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE period_units (
    year INTEGER NOT NULL REFERENCES periods(year),
    ord INTEGER NOT NULL,
    name TEXT NOT NULL,
    class TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (year, name)
);
CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    year INTEGER NOT NULL,
    unit TEXT NOT NULL,
    rule TEXT NOT NULL,
    count INTEGER NOT NULL,
    points INTEGER,
    date TEXT,
    source TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'recorded',
    revoked_reason TEXT,
    revoked_by TEXT,
    revoked_at TEXT,
    replaces INTEGER REFERENCES records(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    FOREIGN KEY (year, unit) REFERENCES period_units(year, name)
);
CREATE INDEX records_by_unit ON records(year, unit, rule);
CREATE TABLE assessments (
    year INTEGER NOT NULL,
    unit TEXT NOT NULL,
    rule TEXT NOT NULL,
    assessor TEXT NOT NULL,
    score INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (year, unit, rule, assessor),
    FOREIGN KEY (year, unit) REFERENCES period_units(year, name)
);
CREATE TABLE metrics (
    year INTEGER NOT NULL,
    unit TEXT NOT NULL,
    metric TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (year, unit, metric),
    FOREIGN KEY (year, unit) REFERENCES period_units(year, name)
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    before TEXT,
    after TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- The audit trail is append-only: the database itself refuses to change or remove an entry.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit entries cannot be removed'); END;
-- Records are never removed either; a correction revokes and replaces.
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'records cannot be removed'); END;
CREATE TRIGGER records_fixed_content BEFORE UPDATE OF unit, rule, count, points, date, source, note, created_by, created_at ON records
BEGIN SELECT RAISE(ABORT, 'a record''s content cannot be changed'); END;
