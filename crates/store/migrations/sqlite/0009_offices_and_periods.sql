-- Offices, assessments and parts of a year (offices-and-periods.md). An office has a code, a name,
-- a level and a parent (none for the root, which this migration creates: an existing deployment's
-- office; its name is filled from its first rubric's issuer when the store opens).
CREATE TABLE offices (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL DEFAULT '',
    parent TEXT REFERENCES offices(code),
    created_at TEXT NOT NULL
);
INSERT INTO offices (code, name, level, parent, created_at) VALUES ('root', '', '', NULL, '1970-01-01T00:00:00Z');
-- Every account belongs to one office; the accounts made before belong to the root.
ALTER TABLE users ADD COLUMN office TEXT NOT NULL DEFAULT 'root';
-- A period is (office, assessment, year, part). The column `year` is from here on the period's id,
-- which every table keyed by it keeps: for the periods made before this migration it equals their
-- year, so their rows, URLs and audit entities stay as they were. `cal_year` is the calendar year.
-- `part` is '' for a whole year; a part's `of_year` is the id of its year's period. `pkey` is the
-- stable key a period is named by in paths and flags.
ALTER TABLE periods ADD COLUMN office TEXT NOT NULL DEFAULT 'root';
ALTER TABLE periods ADD COLUMN assessment TEXT NOT NULL DEFAULT 'default';
ALTER TABLE periods ADD COLUMN assessment_name TEXT NOT NULL DEFAULT '';
ALTER TABLE periods ADD COLUMN cal_year INTEGER NOT NULL DEFAULT 0;
ALTER TABLE periods ADD COLUMN part TEXT NOT NULL DEFAULT '';
ALTER TABLE periods ADD COLUMN of_year INTEGER;
ALTER TABLE periods ADD COLUMN pkey TEXT;
UPDATE periods SET cal_year = year, pkey = 'root.default.' || CAST(year AS TEXT);
CREATE UNIQUE INDEX periods_by_key ON periods(pkey);
CREATE UNIQUE INDEX periods_by_identity ON periods(office, assessment, cal_year, part);
