CREATE TABLE peer_groups (
    key         TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    org_type    TEXT NOT NULL,
    members     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
