-- A period's records in id order without a sort: the state of a period is read this way.
CREATE INDEX records_by_year ON records(year, id);
