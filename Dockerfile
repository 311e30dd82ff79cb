# syntax=docker/dockerfile:1

# Build stage: a static binary of the gateway.
FROM golang:1.26-bookworm AS build
WORKDIR /src

# Download the modules in a layer of their own, so that a change of the code
# does not download them again.
COPY go.mod go.sum ./
# A patched copy of one module (third_party/zxcvbn-go/PATCHED.md), named by a
# replace directive, must be present for the download.
COPY third_party ./third_party
RUN go mod download

# The generated *_templ.go files are committed (CI checks that they are up to
# date), so the build needs no templ step.
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gateway ./cmd/gateway

# Final stage: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /gateway
USER nonroot:nonroot
# 8080: the gateway (listen). 9090: /healthz, /readyz and /metrics
# (ops_listen). Outside a container ops_listen defaults to loopback; in the
# container both listen on all interfaces so the ports can be published.
ENV GATEWAY_LISTEN=":8080" GATEWAY_OPS_LISTEN=":9090"
# Garbage collector (README, "Performance"): GOMEMLIMIT is a soft limit that
# makes the collector work harder as the heap nears it, instead of the
# container being killed at its memory limit. Most memory in use at a peak
# is argon2id (64 MiB per sign-in being hashed, at most one per CPU) and
# per-session state (about 0.6 KiB per live session). 400MiB suits a
# container limited to 512 MiB: set about 80 % of your limit with
# `-e GOMEMLIMIT=…`. GOGC stays at its default (100): the live heap is
# small and pointer-light and a proxied request leaves a few kB of garbage,
# so collection costs little CPU, and a higher GOGC would only hold more
# memory.
ENV GOMEMLIMIT=400MiB
EXPOSE 8080 9090
ENTRYPOINT ["/gateway"]
CMD ["serve"]
