-- A period's records are read by year in id order (the period's state), and by id. The index by
-- unit and clause served lists the store now answers from the period's state; it slowed every
-- insert (a million imported records land in random unit order), so it goes.
DROP INDEX records_by_unit;
CREATE INDEX records_by_year ON records(year, id);
