CREATE TABLE organisations (
    ods_code        TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    org_type        TEXT NOT NULL,
    region_code     TEXT,
    icb_code        TEXT REFERENCES organisations (ods_code),
    opened_on       DATE,
    closed_on       DATE,
    successor_code  TEXT REFERENCES organisations (ods_code),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX organisations_type_idx ON organisations (org_type);
CREATE INDEX organisations_region_idx ON organisations (region_code);
CREATE INDEX organisations_icb_idx ON organisations (icb_code);
CREATE INDEX organisations_successor_idx ON organisations (successor_code);

CREATE TABLE organisation_predecessors (
    successor_code    TEXT NOT NULL REFERENCES organisations (ods_code),
    predecessor_code  TEXT NOT NULL REFERENCES organisations (ods_code),
    merged_on         DATE,
    PRIMARY KEY (successor_code, predecessor_code)
);
CREATE INDEX organisation_predecessors_pred_idx ON organisation_predecessors (predecessor_code);

CREATE TABLE api_clients (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    organisations  TEXT NOT NULL,
    secret_hash    TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    revoked_at     TIMESTAMP
);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at  TIMESTAMP NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_key   TEXT NOT NULL,
    summary      TEXT NOT NULL,
    request_id   TEXT
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_key);
CREATE INDEX audit_events_actor_idx ON audit_events (actor);
CREATE INDEX audit_events_time_idx ON audit_events (occurred_at);
