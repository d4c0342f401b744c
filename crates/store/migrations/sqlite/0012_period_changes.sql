-- What each version of a period changed, written in the write's own transaction: the names of the
-- units whose records, scores or metric values changed (a JSON array), or NULL when the write
-- changed more (the roster, the period as a whole) and a reader must read the period again. An
-- instance whose cached state is a few versions behind re-reads those units only.
CREATE TABLE period_changes (
    year INTEGER NOT NULL,
    version INTEGER NOT NULL,
    units TEXT,
    PRIMARY KEY (year, version)
);
