# The registry for a real deployment (see docker-compose.yml). Node 24 runs the TypeScript
# sources directly (type stripping), so there is no build step.
FROM node:24-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
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
USER node
EXPOSE 8080
# Heap limits: the live heap under load is about 30 MB; without limits V8 let the process grow
# past 350 MB resident under a search burst (issue 6, `pnpm bench`).
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=128", "packages/server/src/main.ts"]
