-- A share link may carry the results its owner saw (issue 19: never unless
-- the owner chose to include them): the result sets as the run streamed them,
-- bounded by the API (SHARE_RESULTS_MAX_CHARS) and counted in size_chars.
ALTER TABLE shares ADD COLUMN results jsonb;
