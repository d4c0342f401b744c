-- Which units each 督导组 supervises.
CREATE TABLE group_units (
    grp TEXT NOT NULL,
    unit TEXT NOT NULL,
    PRIMARY KEY (grp, unit)
);
