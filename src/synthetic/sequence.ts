/**
 * A section of a synthetic user is a {@link Sequence}: records numbered 0 (oldest) … n-1 (newest),
 * grouped in segments (the initial history, then one segment per `evolve`). Record `j` of a segment is
 * a pure function of (segment key, j), and its time lies in the j-th slot of the segment's time range,
 * so times never decrease with the index and nothing has to be stored per record.
 */
export interface Segment {
  /** Seeds every record of the segment. */
  key: number;
  count: number;
  /** Unix seconds; records fall in [from, to). */
  from: number;
  to: number;
}

export interface Sequence {
  segments: Segment[];
  /** Global indices (ascending) of records that were removed (unliked, unfollowed…). */
  removed: number[];
}

export interface Cursor {
  seg: Segment;
  /** Index within the segment. */
  j: number;
  /** Index within the whole sequence. */
  g: number;
}

export function emptySequence(): Sequence {
  return { segments: [], removed: [] };
}

export function totalOf(seq: Sequence): number {
  let n = 0;
  for (const s of seq.segments) n += s.count;
  return n;
}

/** Records that an export shows (before any retention cutoff). */
export function visibleOf(seq: Sequence): number {
  return totalOf(seq) - seq.removed.length;
}

/** Start of slot `j`: needs no random draw, so other records can refer to it. */
export function slotStart(seg: Segment, j: number): number {
  return seg.from + Math.floor((j * (seg.to - seg.from)) / seg.count);
}

/** A time inside slot `j`, `u` in [0, 1). */
export function slotTime(seg: Segment, j: number, u: number): number {
  const t = seg.from + Math.floor(((j + u) * (seg.to - seg.from)) / seg.count);
  return Math.min(t, seg.to - 1);
}

/**
 * Walks the records newest first (`desc`) or oldest first, skipping removed ones. The yielded cursor is
 * reused between steps: read it, do not keep it.
 */
export function* walk(seq: Sequence, order: 'desc' | 'asc' = 'desc'): Generator<Cursor> {
  const removed = seq.removed;
  if (order === 'desc') {
    let g = totalOf(seq);
    let p = removed.length - 1;
    for (let s = seq.segments.length - 1; s >= 0; s--) {
      const seg = seq.segments[s]!;
      const cursor: Cursor = { seg, j: 0, g: 0 };
      for (let j = seg.count - 1; j >= 0; j--) {
        g--;
        while (p >= 0 && removed[p]! > g) p--;
        if (p >= 0 && removed[p] === g) continue;
        cursor.j = j;
        cursor.g = g;
        yield cursor;
      }
    }
  } else {
    let g = -1;
    let p = 0;
    for (const seg of seq.segments) {
      const cursor: Cursor = { seg, j: 0, g: 0 };
      for (let j = 0; j < seg.count; j++) {
        g++;
        while (p < removed.length && removed[p]! < g) p++;
        if (p < removed.length && removed[p] === g) continue;
        cursor.j = j;
        cursor.g = g;
        yield cursor;
      }
    }
  }
}

/** The cursor of global index `g` (removed or not), or undefined when out of range. */
export function locate(seq: Sequence, g: number): Cursor | undefined {
  let base = 0;
  for (const seg of seq.segments) {
    if (g < base + seg.count) return { seg, j: g - base, g };
    base += seg.count;
  }
  return undefined;
}

/** Inserts indices into the sorted removed list (ignoring ones already there). */
export function addRemoved(seq: Sequence, indices: Iterable<number>): void {
  const set = new Set(seq.removed);
  for (const i of indices) set.add(i);
  seq.removed = [...set].sort((a, b) => a - b);
}
