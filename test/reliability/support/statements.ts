/**
 * The statements the crash trials count and kill in: COPY into staging, and the merge stage's writes
 * (occurrence numbers, restore, update, insert; reconcile's removals and the parse stage's own
 * writes to staging are not the merge stage's).
 */
export const COPY_STATEMENT = /^copy pg_temp\.stage_/;
export const MERGE_STATEMENT =
  /^\s*(?:update (?:tiktok\.|pg_temp\.stage_)|insert into tiktok\.|with [ui] as \(\s*(?:update|insert into) tiktok\.)/;
