-- Always empty. A write transaction starts with `DELETE FROM write_lock`, which takes SQLite's
-- write lock before the transaction reads anything (as BEGIN IMMEDIATE would). A read-then-write
-- transaction then waits its turn under the busy timeout instead of failing with "database is
-- locked" when another writer commits in between. PostgreSQL needs no such table.
CREATE TABLE write_lock (
    held INTEGER NOT NULL
);
