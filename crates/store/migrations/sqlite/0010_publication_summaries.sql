-- A publication keeps its result in brief (units, units per grade, mean total, vetoed units: the
-- core's Summary as JSON), written with it, so that the offices above read what they oversee
-- without loading every published period. It is derived from the signed body (its `results`) and
-- is not itself signed; a publication made before this column has none and is summarised from
-- its period when read.
ALTER TABLE publications ADD COLUMN summary TEXT;
