# syntax=docker/dockerfile:1
# TutorDex: one image, one CLI; the command picks the role (live, worker, bot, serve, …).

FROM node:20.20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY patches ./patches
# full install (runs patch-package on postgres.js), then drop dev dependencies
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20.20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=128 \
    TUTORDEX_DATA_DIR=/data/db
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node src ./src
COPY --chown=node:node data ./data
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/tutordex.js"]
# No default role: a bare `docker run` prints the commands. Never `start`, whose sample feed is for a fresh clone.
CMD ["--help"]
