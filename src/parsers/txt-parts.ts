/**
 * TXT exports split a long list into numbered part files: `Following_1.txt`, `Following_2.txt` …
 * `Like List_10.txt`. A part is read as the section its name gives once the `_<digits>` is taken off.
 *
 * Copies named the way browsers and file managers name a second download (`Following (2).txt`) are
 * not parts: such a file may hold the same records again, or another export's, so it is not merged.
 */

const PART = /^(.*[^/\s])_(\d{1,6})(\.txt)?$/i;

export interface TxtPart {
  /** The name or path without the part number: `Activity/Following.txt`. */
  readonly section: string;
  /** The part number: 1 for `Following_1.txt`. */
  readonly part: number;
}

/**
 * The section and part number of a numbered part file (`Activity/Following_2.txt`, or a base name
 * such as `Following_2`), or `undefined` when the name has no part number.
 */
export function txtPart(name: string): TxtPart | undefined {
  const match = PART.exec(name);
  if (match === null) return undefined;
  return { section: `${match[1]}${match[3] ?? ''}`, part: Number(match[2]) };
}
