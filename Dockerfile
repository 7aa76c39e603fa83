# A minimal image with the static exlogare binary, built from source (needs Docker Hub for
# rust:1.95-bookworm, and crates.io and the Rust toolchain servers for the build):
#
#   docker build -t exlogare:0.1.0 .        # or: podman build -t exlogare:0.1.0 .
#
# Without any image registry, build the binary on the host and use ci/docker/Dockerfile.prebuilt
# (FROM scratch, the same run stage as below); ci/docker/build-and-check.sh builds that and checks
# the image. See docs/install.md, "A minimal image".
#
# Use it as a job image (it has a shell, as GitLab jobs need; set `entrypoint: [""]`, as the
# component's `.exlogare-image` job does), or copy the one file into your own build image:
#   COPY --from=exlogare:0.1.0 /usr/local/bin/exlogare /usr/local/bin/exlogare
#
# NOTE: this file's build stage has not been run (no image registry where it was written). Its
# run stage is the one of ci/docker/Dockerfile.prebuilt, which was built and checked with podman.

# --- build: a static musl binary, with the default guest compiled for wasm32-wasip2 ---
FROM rust:1.95-bookworm AS build
RUN rustup target add x86_64-unknown-linux-musl wasm32-wasip2 \
 && apt-get update \
 && apt-get install -y --no-install-recommends musl-tools busybox-static \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (not target/, which can be many GB).
COPY Cargo.toml Cargo.lock ./
COPY guest guest
COPY host host
COPY tests tests
COPY wit wit
RUN CC_x86_64_unknown_linux_musl=musl-gcc \
    cargo build --release --locked --target x86_64-unknown-linux-musl -p exlogare \
 && mkdir -p /out \
 && install -m 0755 target/x86_64-unknown-linux-musl/release/exlogare /out/exlogare \
 && install -m 0755 /bin/busybox /out/busybox \
 && /out/exlogare --version

# --- run: busybox (static, Debian's busybox-static) gives the shell that GitLab job scripts
# need, and nothing else. Keep this stage the same as ci/docker/Dockerfile.prebuilt. ---
FROM scratch
COPY --from=build /out/busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && /bin/busybox mkdir -m 1777 /tmp"]
COPY --from=build /out/exlogare /usr/local/bin/exlogare
# TLS roots are built into the binary, so no ca-certificates; for a private CA mount a PEM file
# and set EXLOGARE_CA_FILE. The guest cache, and the trust records that vouch for its entries,
# go to /tmp (there is no home directory).
ENV PATH=/usr/local/bin:/bin \
    EXLOGARE_CACHE_DIR=/tmp/exlogare-cache \
    XDG_STATE_HOME=/tmp/exlogare-state
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/exlogare"]
CMD ["--help"]
