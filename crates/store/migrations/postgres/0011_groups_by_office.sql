-- A 督导组 belongs to an office: two offices may each have a 第一督导组, each supervising units of
-- its own office. The groups made before belong to the root.
ALTER TABLE group_units ADD COLUMN office TEXT NOT NULL DEFAULT 'root' REFERENCES offices(code);
ALTER TABLE group_units DROP CONSTRAINT group_units_pkey;
ALTER TABLE group_units ADD PRIMARY KEY (office, grp, unit);
