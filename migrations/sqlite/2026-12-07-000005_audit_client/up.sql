-- The API client a token was issued to, beside the token subject (actor).
ALTER TABLE audit_events ADD COLUMN client_id TEXT;
