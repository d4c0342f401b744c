-- Every imported file, by the SHA-256 of its bytes, with who imported it and when: the same file is
-- not imported into a year twice. Kept like the audit trail: never changed, never removed.
CREATE TABLE imported_files (
    id BIGSERIAL PRIMARY KEY,
    year BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    rows BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (year, sha256)
);
CREATE TRIGGER imported_files_fixed BEFORE UPDATE ON imported_files
    FOR EACH ROW EXECUTE FUNCTION lvzhi_refuse('imported files cannot be changed');
CREATE TRIGGER imported_files_kept BEFORE DELETE ON imported_files
    FOR EACH ROW EXECUTE FUNCTION lvzhi_refuse('imported files cannot be removed');
