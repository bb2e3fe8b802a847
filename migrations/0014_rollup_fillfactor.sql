-- Issue 15, item 6: the service-review rollup's rows are updated by every audit batch (a few
-- hundred times a second, the same few rows of the day). At the default fillfactor (100) a
-- page of them is full, so an update whose page holds versions that a concurrent snapshot can
-- still see cannot stay on its page (no HOT update): it goes to a new page and adds an entry to
-- every index. Without a vacuum between (autovacuum off, or behind) the rollup grew with the
-- audit (1.8 MB to 5.4 MB for about 10 live rows over 50,000 searches) and each upsert probed
-- ever more dead versions. Leaving 90 % of each page free keeps a day's rows one or two to a
-- page with room for their next versions, so updates stay HOT and page pruning reclaims them.
-- The tables hold one row per day and bounded dimension, so the space is small. Applies to rows
-- inserted from now on: every day's rows are new rows, so from the next day at the latest.
ALTER TABLE audit_rollup SET (fillfactor = 10);
ALTER TABLE audit_access_rollup SET (fillfactor = 10);
