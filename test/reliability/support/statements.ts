/**
 * The statements the crash trials count and kill in: the parse stage's COPYs (new records straight
 * into the stored tables, the rest into staging), and the merge stage's writes (occurrence numbers,
 * restore, update, insert; reconcile's removals are not the merge stage's).
 */
export const COPY_STATEMENT = /^copy (?:pg_temp\.stage_|tiktok(?:_private)?\.)/;
export const MERGE_STATEMENT =
  /^\s*(?:update (?:tiktok\.|pg_temp\.stage_)|insert into tiktok\.|with [ui] as \(\s*(?:update|insert into) tiktok\.)/;
