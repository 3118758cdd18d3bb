CREATE TABLE frameworks (
    key           TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    version       TEXT NOT NULL,
    method        TEXT NOT NULL,
    status        TEXT NOT NULL,
    document      TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    published_at  TIMESTAMP
);

CREATE TABLE rounds (
    key            TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    framework_key  TEXT NOT NULL REFERENCES frameworks (key),
    opens_at       TIMESTAMP NOT NULL,
    closes_at      TIMESTAMP NOT NULL,
    status         TEXT NOT NULL,
    synthetic      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX rounds_framework_idx ON rounds (framework_key);

CREATE TABLE assessments (
    id            TEXT PRIMARY KEY,
    round_key     TEXT NOT NULL REFERENCES rounds (key),
    ods_code      TEXT NOT NULL REFERENCES organisations (ods_code),
    status        TEXT NOT NULL,
    version       INTEGER NOT NULL,
    answers       TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    submitted_at  TIMESTAMP,
    submitted_by  TEXT,
    CONSTRAINT assessments_one_per_round UNIQUE (round_key, ods_code)
);
CREATE INDEX assessments_ods_idx ON assessments (ods_code);

CREATE TABLE scores (
    assessment_id  TEXT NOT NULL REFERENCES assessments (id),
    round_key      TEXT NOT NULL REFERENCES rounds (key),
    ods_code       TEXT NOT NULL REFERENCES organisations (ods_code),
    scope          TEXT NOT NULL,
    pillar         TEXT NOT NULL,
    domain         TEXT NOT NULL,
    score          DOUBLE PRECISION,
    coverage       DOUBLE PRECISION NOT NULL,
    answered       INTEGER NOT NULL,
    applicable     INTEGER NOT NULL,
    PRIMARY KEY (assessment_id, pillar, domain)
);
CREATE INDEX scores_round_idx ON scores (round_key, scope, pillar);
CREATE INDEX scores_ods_idx ON scores (ods_code);
