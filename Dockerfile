# Production image for both binaries (Debian 12, non-root). Built by compose.yaml:
#   control plane: CMD ["hydracore-control-plane", "serve"]   broker: ["hydracore-broker", "serve"]
FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config \
      libpistache-dev libpoco-dev libpqxx-dev libpq-dev libbotan-2-dev rapidjson-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DHYDRA_BUILD_TESTS=OFF \
    && cmake --build /build -j"$(nproc)" --target hydracore-control-plane hydracore-broker

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpistache0 libpocofoundation80 libpocoutil80 libpoconet80 libpoconetssl80 libpococrypto80 libpqxx-6.4 libpq5 libbotan-2-19 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home hydracore \
    # The broker's audit journal folder: a named volume starts as a copy of it (owner, 0700).
    && install -d -o hydracore -g hydracore -m 0700 /var/lib/hydracore/audit
COPY --from=build /build/control-plane/hydracore-control-plane /build/broker/hydracore-broker /usr/local/bin/
USER hydracore
EXPOSE 8080 8081
CMD ["hydracore-control-plane", "serve"]
