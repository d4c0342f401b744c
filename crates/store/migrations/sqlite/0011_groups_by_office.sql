-- A 督导组 belongs to an office: two offices may each have a 第一督导组, each supervising units of
-- its own office. The groups made before belong to the root.
CREATE TABLE group_units_by_office (
    office TEXT NOT NULL DEFAULT 'root' REFERENCES offices(code),
    grp TEXT NOT NULL,
    unit TEXT NOT NULL,
    PRIMARY KEY (office, grp, unit)
);
INSERT INTO group_units_by_office (office, grp, unit) SELECT 'root', grp, unit FROM group_units;
DROP TABLE group_units;
ALTER TABLE group_units_by_office RENAME TO group_units;
