# The scheduler image: Node 20, the built packages, production dependencies only.
# docker compose builds it (service `scheduler`); by hand: docker build -t qbo-singer .

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so `npm ci` is cached until a dependency changes.
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY packages/singer-kit/package.json packages/singer-kit/
COPY packages/local-postgres/package.json packages/local-postgres/
COPY packages/qbo-catalog/package.json packages/qbo-catalog/
COPY packages/qbo-emulator/package.json packages/qbo-emulator/
COPY packages/tap-quickbooks/package.json packages/tap-quickbooks/
COPY packages/target-postgres-raw/package.json packages/target-postgres-raw/
COPY packages/qbo-pipeline/package.json packages/qbo-pipeline/
COPY packages/qbo-demo/package.json packages/qbo-demo/
RUN npm ci --no-audit --no-fund
COPY catalog ./catalog
COPY packages ./packages
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app ./
# state/ holds pipeline state and triggers; state/tokens the rotated refresh token (0700, its
# own volume). Created here so new named volumes start owned by the non-root user.
RUN mkdir -p state/tokens && chown -R node:node state && chmod 700 state/tokens
USER node
VOLUME ["/app/state", "/app/state/tokens"]
CMD ["node", "packages/qbo-pipeline/dist/cli.js", "scheduler"]
