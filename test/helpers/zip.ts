import yazl from 'yazl';

export interface ZipMember {
  name: string;
  data: string | Buffer;
  compress?: boolean;
}

/** A zip holding exactly these members, in memory (small test fixtures only). */
export async function zipBytes(members: readonly ZipMember[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const m of members) {
    if (m.name.endsWith('/')) zip.addEmptyDirectory(m.name);
    else zip.addBuffer(Buffer.from(m.data), m.name, { compress: m.compress ?? true });
  }
  zip.end();
  const parts: Buffer[] = [];
  for await (const chunk of zip.outputStream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * Renames an entry in place, in its local and central headers (same byte length), to make names
 * that zip writers refuse to produce, such as `../evil.json`.
 */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to))
    throw new Error('renameEntry needs names of equal length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, at + 1)) Buffer.from(to).copy(out, at);
  return out;
}
