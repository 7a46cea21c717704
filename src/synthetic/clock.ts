export const MINUTE = 60;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const YEAR = 365 * DAY;

const TWO = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Civil (year, month 1-12, day) of a day count since 1970-01-01 (Hinnant's algorithm). */
function civil(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** Unix seconds → `YYYY-MM-DD HH:MM:SS` (UTC), the way TikTok writes export dates. */
export function formatDate(ts: number): string {
  const days = Math.floor(ts / DAY);
  const sec = ts - days * DAY;
  const [y, m, d] = civil(days);
  const hh = Math.floor(sec / HOUR);
  const mm = Math.floor((sec % HOUR) / MINUTE);
  const ss = sec % MINUTE;
  return `${y}-${TWO[m]}-${TWO[d]} ${TWO[hh]}:${TWO[mm]}:${TWO[ss]}`;
}

/** Unix seconds → `DD-Mon-YYYY`, the format of `ProfileMap.birthDate`. */
export function formatBirthDate(ts: number): string {
  const [y, m, d] = civil(Math.floor(ts / DAY));
  return `${TWO[d]}-${MONTHS[m - 1]}-${y}`;
}

/** A Date whose *local* fields equal the UTC fields of `ts`, so zip DOS timestamps do not depend on TZ. */
export function dosDate(ts: number): Date {
  const [y, m, d] = civil(Math.floor(ts / DAY));
  const sec = ts - Math.floor(ts / DAY) * DAY;
  return new Date(y, m - 1, d, Math.floor(sec / HOUR), Math.floor((sec % HOUR) / MINUTE), sec % MINUTE);
}
