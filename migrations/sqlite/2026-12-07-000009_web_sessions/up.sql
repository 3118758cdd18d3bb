-- People signed in to the web front end (/app). The browser's cookie carries only a random session
-- id, encrypted; the session itself lives here, so signing out (or an administrator deleting the
-- row) ends it everywhere at once. Ids and link tokens are stored as SHA-256 hashes only.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    role TEXT NOT NULL,
    -- JSON array of ODS codes (submitters).
    organisations TEXT NOT NULL,
    -- The synchroniser token every form of this session must send back.
    csrf_token TEXT NOT NULL,
    -- How the person signed in: `login_link` or `oidc`.
    method TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- Single-use sign-in links minted by `dma login-link`: valid for ten minutes, spent on first use.
CREATE TABLE login_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    role TEXT NOT NULL,
    organisations TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
