# Conclave in a container: the server binary and the web client it serves.
# Built by docker-compose.yml; configured at run time by CONCLAVE_* environment variables
# (README "Configure"). Nothing about the deployment (URLs, database, secrets) is baked in:
# the web client talks to whatever origin serves it.

# ---- build: the server (release) and the web client (wasm) ------------------------------------
FROM rust:1.95-bookworm AS build
# rustup's wasm32 target (scripts/build-client.sh uses it when present) and npm for wasm-opt.
RUN rustup target add wasm32-unknown-unknown \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./scripts/build-client.sh \
    && cargo build --release --locked -p conclave-server

# ---- run: a small image with the binary, the client and a data folder --------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /data conclave \
    && mkdir -p /data \
    && chown conclave:conclave /data
COPY --from=build /src/target/release/conclave /usr/local/bin/conclave
COPY --from=build /src/frontend/dist /usr/local/share/conclave/client
ENV CONCLAVE_BIND=0.0.0.0:8080 \
    CONCLAVE_DATA_DIR=/data \
    CONCLAVE_CLIENT_DIR=/usr/local/share/conclave/client
USER conclave
# The embedded store when no MongoDB is configured, the generated JWT secret, later the key file.
VOLUME /data
EXPOSE 8080
# SIGTERM stops Conclave gracefully (WebSockets are told `server_stopping`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["conclave"]
