-- Pillar and overall rows of a round, in the order divergence and round scores read them, without
-- touching domain rows (most of the table): an index-only scan once the table is vacuumed.
CREATE INDEX scores_pillar_rows_idx ON scores (round_key, ods_code, pillar, domain)
    INCLUDE (assessment_id, scope, score, coverage, answered, applicable)
    WHERE scope <> 'domain';
