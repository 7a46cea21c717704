import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { databaseUrlFor } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { silentLogger } from '../../src/logger.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser connection to the test server (database `postgres`). */
    adminUrl: string;
    /** A migrated database that each test file clones. */
    templateDatabase: string;
  }
}

/**
 * Finds a real Postgres for the suite: `DATABASE_URL` when set (CI), else a testcontainers Postgres
 * when a container runtime answers, else the embedded Postgres in a temporary directory. Then builds
 * one migrated template database that every test file clones (fast, and each file is isolated).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startServer();
  const template = `tiktok_sync_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: databaseUrlFor(server.adminUrl, template) }),
    }),
  });
  await migrateToLatest(db);
  await db.destroy();

  project.provide('adminUrl', server.adminUrl);
  project.provide('templateDatabase', template);

  return async () => {
    await admin.query(`drop database if exists ${template} with (force)`).catch(() => {});
    await admin.end();
    await server.stop();
  };
}

interface Server {
  adminUrl: string;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  if (process.env.DATABASE_URL) {
    return { adminUrl: process.env.DATABASE_URL, stop: async () => {} };
  }
  const container = await startContainer();
  if (container) return container;
  return startEmbedded();
}

async function startContainer(): Promise<Server | undefined> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch {
    return undefined; // no Docker/Podman here: fall back to the embedded server
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:16-alpine').start();
  return {
    adminUrl: databaseUrlFor(container.getConnectionUri(), 'postgres'),
    stop: async () => {
      await container.stop();
    },
  };
}

async function startEmbedded(): Promise<Server> {
  const { startThrowawayPostgres } = await import('../../src/db/embedded.js');
  return startThrowawayPostgres('tiktok-sync-test-', silentLogger());
}
