-- Pillar and overall rows of a round, in the order divergence and round scores read them, without
-- touching domain rows (most of the table): a covering index, so the query never reads the table.
CREATE INDEX scores_pillar_rows_idx ON scores (round_key, ods_code, pillar, domain, assessment_id, scope, score, coverage, answered, applicable)
    WHERE scope <> 'domain';
