DROP INDEX scores_pillar_rows_idx;
