import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { databaseUrlFor } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { BENCH_APPLICATION } from './protocol.js';

const ADMIN_APPLICATION = 'tiktok-sync-bench-admin';

/** The server the benchmark uses: `DATABASE_URL`, else this machine's Postgres. */
export const adminUrl = (): string =>
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: ADMIN_APPLICATION });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Fresh databases of one run, dropped at the end unless kept. */
export class BenchDatabases {
  readonly created: string[] = [];
  readonly #admin: string;
  readonly #prefix: string;
  readonly #settings: readonly string[];

  /** `settings` (`name=value`) are set on every database created, for its future sessions. */
  constructor(admin: string, settings: readonly string[] = []) {
    this.#admin = admin;
    this.#prefix = `bench_${process.pid}_`;
    for (const setting of settings) {
      if (!/^[a-z_.]+=[\w.-]+$/i.test(setting)) {
        throw new Error(`--pg-set takes name=value (e.g. work_mem=64MB), not \`${setting}\`.`);
      }
    }
    this.#settings = settings;
  }

  /** Creates `bench_<pid>_<label>` and migrates it to the latest schema (not timed). */
  async create(label: string, options: { migrate: boolean } = { migrate: true }): Promise<string> {
    const name = `${this.#prefix}${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
    await withClient(this.#admin, async (client) => {
      await client.query(`drop database if exists ${name} with (force)`);
      await client.query(`create database ${name}`);
      for (const setting of this.#settings) {
        const [key, value] = setting.split('=') as [string, string];
        await client.query(`alter database ${name} set ${key} = '${value}'`);
      }
    });
    this.created.push(name);
    const url = databaseUrlFor(this.#admin, name);
    if (options.migrate) {
      const pool = new pg.Pool({ connectionString: url, application_name: ADMIN_APPLICATION, max: 2 });
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      try {
        await migrateToLatest(db);
      } finally {
        await db.destroy();
      }
    }
    return url;
  }

  async drop(url: string): Promise<void> {
    const name = new URL(url).pathname.slice(1);
    await withClient(this.#admin, (client) => client.query(`drop database if exists ${name} with (force)`));
    const at = this.created.indexOf(name);
    if (at >= 0) this.created.splice(at, 1);
  }

  async dropAll(): Promise<void> {
    for (const name of [...this.created]) await this.drop(databaseUrlFor(this.#admin, name));
  }
}

/**
 * Tuples inserted, updated and deleted so far in the tables of `schema`, from `pg_stat_user_tables`.
 *
 * A backend reports its counters when it exits (and at most once a second when idle), so this first
 * waits until the phase children's connections to the database are gone; take it before and after a
 * phase and subtract.
 */
export async function tupleWrites(url: string, schemas: readonly string[]): Promise<number> {
  return withClient(url, async (client) => {
    for (let i = 0; ; i += 1) {
      const { rows } = await client.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1',
        [BENCH_APPLICATION],
      );
      if (rows[0]!.n === 0) break;
      if (i === 400)
        throw new Error('The phase connections are still open after 10 s; cannot read flushed counters.');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await client.query('select pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ writes: string }>(
      `select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint as writes
       from pg_stat_user_tables where schemaname = any($1)`,
      [schemas],
    );
    return Number(rows[0]!.writes);
  });
}

/**
 * What autovacuum would have done between two exports (it runs within a minute of a large insert):
 * visibility map and hint bits set, statistics fresh. Keeps it from running during the next phase.
 */
export async function vacuumAnalyze(url: string): Promise<number> {
  const started = performance.now();
  await withClient(url, (client) => client.query('vacuum (analyze)'));
  return performance.now() - started;
}

export interface ServerInfo {
  version: string;
  settings: Record<string, string>;
}

export async function serverInfo(url: string): Promise<ServerInfo> {
  return withClient(url, async (client) => {
    const version = (await client.query<{ v: string }>('select version() as v')).rows[0]!.v;
    const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
      `select name, setting, unit from pg_settings
       where name in ('shared_buffers', 'work_mem', 'maintenance_work_mem', 'synchronous_commit',
         'max_wal_size', 'wal_level', 'jit', 'fsync')`,
    );
    const settings: Record<string, string> = {};
    for (const row of rows) settings[row.name] = formatSetting(row.setting, row.unit);
    return { version, settings };
  });
}

function formatSetting(setting: string, unit: string | null): string {
  const units: Record<string, number> = { '8kB': 8 * 1024, kB: 1024, MB: 1024 * 1024 };
  const factor = unit ? units[unit] : undefined;
  if (factor === undefined) return unit ? `${setting} ${unit}` : setting;
  const bytes = Number(setting) * factor;
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GB` : `${Math.round(bytes / 1024 ** 2)} MB`;
}
