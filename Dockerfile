# okta-entity-provider container image, for any architecture Go targets.
#
#   docker build --build-arg VERSION=1.2.3 -t okta-entity-provider .
#   docker run --rm -p 8080:8080 okta-entity-provider          # demo org
#
#   # multi-arch: the build stage runs on the builder's own platform and
#   # cross-compiles (no emulation), the runtime stage is the target's
#   docker buildx build --platform linux/amd64,linux/arm64 \
#       --build-arg VERSION=1.2.3 -t registry.example.com/okta-entity-provider:1.2.3 --push .
#   podman build --platform linux/amd64,linux/arm64 --manifest okta-entity-provider .
#
# With podman or buildah, build with --format docker: the OCI image format
# has no HEALTHCHECK and they drop it otherwise.

# ---- build: a static binary, no cgo, cross-compiled -------------------------
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build

# The usual Go module settings, for mirrors or offline builds (for example
# --build-arg GOPROXY=file:///some/dir). Unset, Go's defaults apply.
ARG GOPROXY
ARG GOSUMDB
ARG GOFLAGS

WORKDIR /src

# Modules first, in their own layer: it is rebuilt only when go.mod or go.sum
# change, not on every source edit.
COPY go.mod go.sum ./
RUN go mod download

COPY . .

# The runtime image has no shell to create the data directory with, so it is
# made here and copied across with its owner.
# TARGETOS, TARGETARCH and TARGETVARIANT (v6, v7 for arm) are set by the
# builder for each --platform; unset (a builder without them), Go builds for
# the build stage's own platform.
ARG VERSION=dev
ARG REVISION=
ARG TARGETOS
ARG TARGETARCH
ARG TARGETVARIANT
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
        GOARM=$(case "${TARGETARCH}" in arm) echo "${TARGETVARIANT#v}" ;; esac) \
        go build -trimpath \
        -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
        -o /out/okta-entity-provider ./cmd/okta-entity-provider \
    && mkdir -p /out/data

# ---- runtime: distroless static (CA certificates, tzdata, no shell) --------
FROM gcr.io/distroless/static-debian12:nonroot

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="okta-entity-provider" \
      org.opencontainers.image.description="Serves Okta users and groups as Backstage catalog User and Group entities" \
      org.opencontainers.image.source="https://github.com/okta-entity-provider/okta-entity-provider" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

COPY --from=build /out/okta-entity-provider /okta-entity-provider

# DATA_DIR holds the service's state between restarts. Mount a volume on
# /data to keep it across container replacements; it must be writable by
# uid 65532.
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data

USER 65532:65532
EXPOSE 8080

# The subcommand gives up after 5s by itself (-timeout); the longer
# --timeout lets it report why (refused, timed out, a status) in the health
# log instead of being killed first.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["/okta-entity-provider", "healthcheck"]

ENTRYPOINT ["/okta-entity-provider"]
