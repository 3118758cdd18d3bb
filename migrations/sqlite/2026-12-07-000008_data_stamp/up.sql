-- The data stamp: one number that changes whenever anything a divergence or score response is
-- computed from changes (a return submitted, re-opened or removed; a round opened, closed or
-- published; an organisation, merger link, peer group or framework changed). Cached results are
-- keyed by it, so a result computed from older data is never served as current, whatever process
-- (or replica) computed it. Triggers, not application code, so no write path can forget it.
CREATE TABLE data_stamp (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_stamp (id, version) VALUES (1, 1);

-- Returns: only a change of status (submit, re-open) or a submitted return changing matters;
-- saving a draft does not.
CREATE TRIGGER data_stamp_assessments_insert AFTER INSERT ON assessments
WHEN NEW.status = 'submitted'
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_assessments_update AFTER UPDATE ON assessments
WHEN OLD.status IS NOT NEW.status OR OLD.status = 'submitted' OR NEW.status = 'submitted'
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_assessments_delete AFTER DELETE ON assessments
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_rounds_insert AFTER INSERT ON rounds
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_rounds_update AFTER UPDATE ON rounds
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_rounds_delete AFTER DELETE ON rounds
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_organisations_insert AFTER INSERT ON organisations
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_organisations_update AFTER UPDATE ON organisations
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_organisations_delete AFTER DELETE ON organisations
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_organisation_predecessors_insert AFTER INSERT ON organisation_predecessors
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_organisation_predecessors_update AFTER UPDATE ON organisation_predecessors
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_organisation_predecessors_delete AFTER DELETE ON organisation_predecessors
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_peer_groups_insert AFTER INSERT ON peer_groups
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_peer_groups_update AFTER UPDATE ON peer_groups
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_peer_groups_delete AFTER DELETE ON peer_groups
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_frameworks_insert AFTER INSERT ON frameworks
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_frameworks_update AFTER UPDATE ON frameworks
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER data_stamp_frameworks_delete AFTER DELETE ON frameworks
BEGIN
    UPDATE data_stamp SET version = version + 1 WHERE id = 1;
END;
