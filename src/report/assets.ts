import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** A script the page inlines, with the hash its Content-Security-Policy allows it by. */
export interface InlineScript {
  readonly text: string;
  /** `'sha256-…'`, as a CSP source. */
  readonly hash: string;
}

export interface ReportAssets {
  /** d3 and Observable Plot (UMD builds, from node_modules), in load order. */
  readonly libraries: readonly InlineScript[];
  /** client.js: draws the charts from the page's JSON. */
  readonly client: InlineScript;
}

const require = createRequire(import.meta.url);

/** The directory of an installed package: the nearest one above its entry point with a package.json. */
function packageDirectory(name: string): string {
  let directory = path.dirname(require.resolve(name));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8'));
      if (manifest.name === name) return directory;
    } catch {
      // no manifest here: look further up
    }
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`The installed package ${name} has no package.json.`);
    directory = parent;
  }
}

function inline(text: string): InlineScript {
  // A source map comment would point the browser's developer tools at a file the page does not have.
  const body = text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  if (/<\/script/i.test(body))
    throw new Error('A script to inline holds `</script`, which would end it early.');
  return { text: body, hash: `'sha256-${createHash('sha256').update(body).digest('base64')}'` };
}

let loaded: ReportAssets | undefined;

/**
 * The scripts the report inlines, read once: the chart library's built files from node_modules (the
 * page loads nothing from the network) and the report's own client.js, which sits next to this
 * module in the sources and in the build alike.
 */
export function reportAssets(): ReportAssets {
  loaded ??= {
    libraries: [
      inline(readFileSync(path.join(packageDirectory('d3'), 'dist/d3.min.js'), 'utf8')),
      inline(readFileSync(path.join(packageDirectory('@observablehq/plot'), 'dist/plot.umd.min.js'), 'utf8')),
    ],
    client: inline(readFileSync(new URL('./client.js', import.meta.url), 'utf8')),
  };
  return loaded;
}
