-- Published results are immutable: once a round is published, its returns and their stored
-- scores cannot be inserted, changed or deleted. The service checks this rule inside every write
-- (under the write lock); these triggers are the backstop that no code path can bypass.

CREATE TRIGGER assessments_published_immutable_insert BEFORE INSERT ON assessments
WHEN (SELECT status FROM rounds WHERE key = NEW.round_key) = 'published'
BEGIN
    SELECT RAISE(ABORT, 'published results cannot change');
END;

CREATE TRIGGER assessments_published_immutable_update BEFORE UPDATE ON assessments
WHEN (SELECT status FROM rounds WHERE key = OLD.round_key) = 'published'
    OR (SELECT status FROM rounds WHERE key = NEW.round_key) = 'published'
BEGIN
    SELECT RAISE(ABORT, 'published results cannot change');
END;

CREATE TRIGGER assessments_published_immutable_delete BEFORE DELETE ON assessments
WHEN (SELECT status FROM rounds WHERE key = OLD.round_key) = 'published'
BEGIN
    SELECT RAISE(ABORT, 'published results cannot change');
END;

CREATE TRIGGER scores_published_immutable_insert BEFORE INSERT ON scores
WHEN (SELECT status FROM rounds WHERE key = NEW.round_key) = 'published'
BEGIN
    SELECT RAISE(ABORT, 'published results cannot change');
END;

CREATE TRIGGER scores_published_immutable_update BEFORE UPDATE ON scores
WHEN (SELECT status FROM rounds WHERE key = OLD.round_key) = 'published'
    OR (SELECT status FROM rounds WHERE key = NEW.round_key) = 'published'
BEGIN
    SELECT RAISE(ABORT, 'published results cannot change');
END;

CREATE TRIGGER scores_published_immutable_delete BEFORE DELETE ON scores
WHEN (SELECT status FROM rounds WHERE key = OLD.round_key) = 'published'
BEGIN
    SELECT RAISE(ABORT, 'published results cannot change');
END;
