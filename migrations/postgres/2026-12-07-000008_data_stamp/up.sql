-- The data stamp: one number that changes whenever anything a divergence or score response is
-- computed from changes (a return submitted, re-opened or removed; a round opened, closed or
-- published; an organisation, merger link, peer group or framework changed). Cached results are
-- keyed by it, so a result computed from older data is never served as current, whatever process
-- (or replica) computed it. Triggers, not application code, so no write path can forget it.
--
-- On PostgreSQL the stamp is bumped at commit (deferred constraint triggers), once per
-- transaction: the row lock on the stamp is held only for the commit itself, so writers never
-- wait on each other for it mid-transaction, and a bulk load bumps it once.
CREATE TABLE data_stamp (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO data_stamp (id, version) VALUES (1, 1);

CREATE FUNCTION bump_data_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('dma.data_stamp_bumped', true) IS DISTINCT FROM 'yes' THEN
        UPDATE data_stamp SET version = version + 1 WHERE id = 1;
        PERFORM set_config('dma.data_stamp_bumped', 'yes', true);
    END IF;
    RETURN NULL;
END
$$;

-- Returns: only a change of status (submit, re-open) or a submitted return changing matters;
-- saving a draft does not.
CREATE CONSTRAINT TRIGGER data_stamp_assessments_insert AFTER INSERT ON assessments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.status = 'submitted') EXECUTE FUNCTION bump_data_stamp();
CREATE CONSTRAINT TRIGGER data_stamp_assessments_update AFTER UPDATE ON assessments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.status = 'submitted' OR NEW.status = 'submitted')
    EXECUTE FUNCTION bump_data_stamp();
CREATE CONSTRAINT TRIGGER data_stamp_assessments_delete AFTER DELETE ON assessments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_stamp();
CREATE CONSTRAINT TRIGGER data_stamp_rounds AFTER INSERT OR UPDATE OR DELETE ON rounds
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_stamp();
CREATE CONSTRAINT TRIGGER data_stamp_organisations AFTER INSERT OR UPDATE OR DELETE ON organisations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_stamp();
CREATE CONSTRAINT TRIGGER data_stamp_organisation_predecessors AFTER INSERT OR UPDATE OR DELETE ON organisation_predecessors
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_stamp();
CREATE CONSTRAINT TRIGGER data_stamp_peer_groups AFTER INSERT OR UPDATE OR DELETE ON peer_groups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_stamp();
CREATE CONSTRAINT TRIGGER data_stamp_frameworks AFTER INSERT OR UPDATE OR DELETE ON frameworks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_data_stamp();
