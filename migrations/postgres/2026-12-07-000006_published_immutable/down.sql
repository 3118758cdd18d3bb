DROP TRIGGER scores_published_immutable ON scores;
DROP TRIGGER assessments_published_immutable ON assessments;
DROP FUNCTION refuse_change_in_published_round();
