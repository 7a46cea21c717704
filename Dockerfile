# The sync daemon (`tiktok-sync run`). Build: `docker build -t tiktok-portability-sync .`
# Run: see docker-compose.yml (Postgres + the daemon, config mounted, secrets from the environment).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: `prepare` would compile before the sources are here, and the embedded Postgres
# is not used in a container (DATABASE_URL points at a server).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY migrations ./migrations
COPY src ./src
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    TIKTOK_SYNC_DATA_DIR=/data \
    TIKTOK_SYNC_LISTEN=0.0.0.0:8724
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8724
# /healthz answers 503 when the database is unreachable or the last tick failed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8724/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) lets the daemon finish or abandon the current stage and release its claims.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/tiktok-sync.js"]
CMD ["run"]
