# syntax=docker/dockerfile:1
#
# The custody image: the custody CLI, a static binary, on an empty base with CA certificates and a static
# busybox as the shell GitLab jobs run in, run as a non-root user. It is the GitHub Action's image
# (action.yml: docker://ghcr.io/custody-dev/custody) and the GitLab components'. Build and publish:
# docs/github-action.md; what it holds: docs/gitlab.md. Where no Docker engine runs,
# internal/image builds the same file system and config with go-containerregistry (go run ./bench/image),
# and a test holds the two to each other.
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=v1.2.3 --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t ghcr.io/custody-dev/custody:v1.2.3 --push .

ARG GO_VERSION=1.26 DEBIAN_RELEASE=bookworm

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS TARGETARCH VERSION=dev
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /rootfs/usr/local/bin/custody ./cmd/custody
# The rest of the root file system: Debian's CA bundle (the golang image has ca-certificates; Go's
# crypto/x509 reads this file on Linux, and SSL_CERT_FILE can name another), the users, a /tmp.
RUN mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\ncustody:x:1001:1001:custody:/tmp:/sbin/nologin\n' > /rootfs/etc/passwd \
 && printf 'root:x:0:\ncustody:x:1001:\n' > /rootfs/etc/group \
 && chmod 1777 /rootfs/tmp

# The shell: Debian's busybox-static for the target platform (this stage runs under emulation when it
# is not the build platform), with a link for each applet, in /busybox: GitLab's Docker executor starts
# a job with `sh -c` through PATH and runs /busybox/sh when the image has no other shell; the runner's
# own job script calls grep, mkdir, rm, ... beside the components' scripts. internal/image takes the
# same binary from the machine's /bin/busybox.
FROM debian:${DEBIAN_RELEASE}-slim AS busybox
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /rootfs/busybox \
 && cp /bin/busybox /rootfs/busybox/busybox \
 && for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "/rootfs/busybox/$a"; done

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=busybox /rootfs/ /
ARG VERSION=dev REVISION= CREATED=
LABEL org.opencontainers.image.title="custody" \
      org.opencontainers.image.description="custody CLI: attest how software was built (the GitHub Action's and the GitLab components' image)" \
      org.opencontainers.image.source="https://github.com/custody-dev/custody" \
      org.opencontainers.image.documentation="https://github.com/custody-dev/custody/blob/main/docs/github-action.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
ENV PATH=/usr/local/bin:/busybox HOME=/tmp
# Not root; uid 1001 is the runner user of GitHub's hosted and ARC runners, so the Action can write
# the workspace and the runner's files, which the runner mounts into the container.
USER 1001:1001
ENTRYPOINT ["/usr/local/bin/custody"]
