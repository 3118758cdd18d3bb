-- Published results are immutable: once a round is published, its returns and their stored
-- scores cannot be inserted, changed or deleted. The service checks this rule inside every write
-- (with the round's row locked); this trigger is the backstop that no code path can bypass.
CREATE FUNCTION refuse_change_in_published_round() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    round_key_changed TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        round_key_changed := OLD.round_key;
    ELSE
        round_key_changed := NEW.round_key;
    END IF;
    IF EXISTS (SELECT 1 FROM rounds WHERE key = round_key_changed AND status = 'published')
       OR (TG_OP = 'UPDATE' AND EXISTS (
            SELECT 1 FROM rounds WHERE key = OLD.round_key AND status = 'published')) THEN
        RAISE EXCEPTION 'published results cannot change (round %)', round_key_changed
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER assessments_published_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON assessments
    FOR EACH ROW EXECUTE FUNCTION refuse_change_in_published_round();

CREATE TRIGGER scores_published_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON scores
    FOR EACH ROW EXECUTE FUNCTION refuse_change_in_published_round();
