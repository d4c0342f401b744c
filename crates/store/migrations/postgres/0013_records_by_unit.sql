-- A unit's records, read alone: what an instance catching up re-reads after another instance's
-- write (a catch-up costs the unit's rows, not a scan of the period's), and a unit's sheet. Kept
-- narrow (year, unit, id); the import of a million records pays for it (BENCHMARKS.md, issue 20).
CREATE INDEX records_by_unit ON records(year, unit, id);
