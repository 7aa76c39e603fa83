# A minimal image with the static exlogare binary.
#
#   docker build -t exlogare:0.1.0 .
#
# Use it as a job image (it has a shell, as GitLab jobs need), or copy the one file into your
# own build image:
#   COPY --from=exlogare:0.1.0 /usr/local/bin/exlogare /usr/local/bin/exlogare
#
# NOTE: not built or tested where it was written (no container engine there); the same
# commands were run by hand on the host — see docs/install.md.

# --- build: a static musl binary, with the default guest compiled for wasm32-wasip2 ---
FROM rust:1.95-bookworm AS build
RUN rustup target add x86_64-unknown-linux-musl wasm32-wasip2 \
 && apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN CC_x86_64_unknown_linux_musl=musl-gcc \
    cargo build --release --locked --target x86_64-unknown-linux-musl -p exlogare \
 && install -D -m 0755 target/x86_64-unknown-linux-musl/release/exlogare /out/exlogare \
 && /out/exlogare --version

# --- run: busybox gives the shell that GitLab job scripts need, and nothing else ---
# (TLS roots are built into the binary, so no ca-certificates package is needed; for a
# private CA mount it and set EXLOGARE_CA_FILE.) For a shell-less image use `FROM scratch`.
FROM busybox:1.37-musl
COPY --from=build /out/exlogare /usr/local/bin/exlogare
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/exlogare"]
CMD ["--help"]
