# The registry for a real deployment (see docker-compose.yml). Node 24 runs the TypeScript
# sources directly (type stripping), so there is no build step. CI builds the same production
# install outside Docker and starts it (scripts/ci/production-install-check.sh).
FROM node:24-slim
# NIR_DATA_DIR: without DATABASE_URL the embedded database lives in the /data volume, which the
# unprivileged `node` user can write (the image's /app is read-only to it).
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 NIR_DATA_DIR=/data/pglite
WORKDIR /app
RUN npm install --global pnpm@10.34.9 --no-fund --no-audit
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/core/package.json packages/core/
COPY packages/store/package.json packages/store/
COPY packages/server/package.json packages/server/
COPY packages/cli/package.json packages/cli/
RUN pnpm install --frozen-lockfile --prod
COPY packages packages
COPY migrations migrations
COPY fhir-profiles fhir-profiles
COPY demo demo
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/_ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Heap limits: the live heap under load is about 30 MB; without limits V8 let the process grow
# past 350 MB resident under a search burst (issue 6, `pnpm bench`). start.mjs checks the Node.js
# version, then loads packages/server/src/main.ts; SIGTERM (docker stop) stops it cleanly.
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=128", "packages/server/start.mjs"]
