import type pg from 'pg';
import { redactConnectionString } from '../db/connect.js';
import { withTransaction } from '../db/transaction.js';
import { ConfigError } from '../errors.js';
import type { CommandContext } from './context.js';
import type { Output } from './output.js';

/** A Postgres role name as people type them (unquoted identifiers); anything else is refused. */
const ROLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

export interface GrantOutcome {
  /** The role did not exist and was created (NOLOGIN: give it a password to use it). */
  created: boolean;
  /** Tables and views of schema `tiktok` it may read. */
  relations: number;
  /** Whether it may read schema `tiktok_private` too. */
  includesPrivate: boolean;
}

export interface GrantOptions {
  /** Also grant schema `tiktok_private` (contact data, places, payment data, raw sections). */
  includePrivate?: boolean;
}

/**
 * Makes `role` a read-only analyst: USAGE on schema `tiktok` and SELECT on all its tables and views,
 * also on tables created later (default privileges of the role that runs this, which should be the
 * one that runs the migrations); nothing on `tiktok_sync`, where the encrypted tokens are, and no
 * right to write anywhere. Schema `tiktok_private` (addresses, phone numbers, emails, precise
 * locations, payment data, raw sections) is granted only with `includePrivate`, and revoked
 * otherwise, so running it again without the option takes that access back. Creates the role
 * (NOLOGIN) when it does not exist. Idempotent.
 */
export async function grantAnalyst(
  pool: pg.Pool,
  role: string,
  options: GrantOptions = {},
): Promise<GrantOutcome> {
  const includePrivate = options.includePrivate === true;
  if (!ROLE_NAME.test(role)) {
    throw new ConfigError(
      'role_name_invalid',
      `\`${role}\` is not a plain Postgres role name (letters, digits, _ and $, starting with a letter or _, at most 63); choose one such as \`analyst\`.`,
    );
  }
  return withTransaction(pool, async (client) => {
    const quoted = client.escapeIdentifier(role);
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    const created = exists.rowCount === 0;
    if (created) await client.query(`create role ${quoted} nologin`);
    await client.query(`
      revoke all on schema tiktok_sync from ${quoted};
      revoke all on all tables in schema tiktok_sync from ${quoted};
      revoke all on all sequences in schema tiktok_sync from ${quoted};
      revoke create on schema tiktok from ${quoted};
      revoke all on all tables in schema tiktok from ${quoted};
      grant usage on schema tiktok to ${quoted};
      grant select on all tables in schema tiktok to ${quoted};
      alter default privileges in schema tiktok grant select on tables to ${quoted};
      -- information_schema shows a table's constraints only to a role with a right other than
      -- SELECT on it; REFERENCES lets BI tools discover the foreign keys, and writes nothing (the
      -- role can create no table to refer from: it has CREATE on no schema).
      grant references on all tables in schema tiktok to ${quoted};
      alter default privileges in schema tiktok grant references on tables to ${quoted};
    `);
    await client.query(
      includePrivate
        ? `
      revoke create on schema tiktok_private from ${quoted};
      revoke all on all tables in schema tiktok_private from ${quoted};
      grant usage on schema tiktok_private to ${quoted};
      grant select, references on all tables in schema tiktok_private to ${quoted};
      alter default privileges in schema tiktok_private grant select, references on tables to ${quoted};`
        : `
      alter default privileges in schema tiktok_private revoke all on tables from ${quoted};
      revoke all on all tables in schema tiktok_private from ${quoted};
      revoke all on schema tiktok_private from ${quoted};`,
    );
    // Rights can also come through PUBLIC or role membership: the promise is checked, not assumed.
    const { rows } = await client.query<{
      tokens: boolean;
      write: boolean;
      private: boolean;
      creates: string | null;
      relations: number;
    }>(
      `select
         has_table_privilege($1, 'tiktok_sync.credentials', 'select') as tokens,
         exists (
           select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('tiktok', 'tiktok_private') and c.relkind in ('r', 'p')
             and has_table_privilege($1, c.oid, 'insert,update,delete,truncate')
         ) as write,
         exists (
           select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'tiktok_private' and c.relkind in ('r', 'p', 'v', 'm')
             and has_table_privilege($1, c.oid, 'select')
         ) as private,
         (select min(n.nspname) from pg_namespace n where has_schema_privilege($1, n.oid, 'create')
           -- temporary tables can refer only to temporary tables
           and n.nspname !~ '^pg_(toast_)?temp_') as creates,
         (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'tiktok' and c.relkind in ('r', 'p', 'v', 'm')
             and has_table_privilege($1, c.oid, 'select')) as relations`,
      [role],
    );
    const check = rows[0]!;
    if (check.tokens || check.write || check.creates !== null || (check.private && !includePrivate)) {
      const what = check.tokens
        ? 'can read tiktok_sync.credentials'
        : check.write
          ? 'can write to tables of schema tiktok'
          : check.creates !== null
            ? `can create tables in schema \`${check.creates}\` (and so refer to ours with foreign keys)`
            : 'can read schema tiktok_private';
      throw new ConfigError(
        'role_not_read_only',
        `Role \`${role}\` ${what} through another grant (PUBLIC or a role it belongs to); nothing was changed. Remove that grant and run this again.`,
      );
    }
    return { created, relations: check.relations, includesPrivate: includePrivate };
  });
}

/** `tiktok-sync grant-analyst <role>`: what {@link grantAnalyst} does, and how to use the role. */
export async function cmdGrantAnalyst(
  context: CommandContext,
  output: Output,
  role: string,
  options: GrantOptions = {},
): Promise<void> {
  const outcome = await grantAnalyst(context.database.pool, role, options);
  output.out(
    `Role \`${role}\`${outcome.created ? ' was created (NOLOGIN) and' : ''} can read the ${outcome.relations} tables and views of schema tiktok, and tables added later; it cannot see schema tiktok_sync (tokens, bookkeeping) or write anything.`,
  );
  output.out(
    outcome.includesPrivate
      ? 'It can also read schema tiktok_private: contact data, precise locations, payment data, raw sections and refused records.'
      : 'It cannot read schema tiktok_private (contact data, precise locations, payment data, raw sections); --include-private grants it.',
  );
  if (outcome.created) {
    output.out(
      `To log in with it, give it a password in psql: \`\\password ${role}\`, then \`alter role ${role} login;\`.`,
    );
  }
  output.out(`Database: ${redactConnectionString(context.database.connectionString)}`);
}
