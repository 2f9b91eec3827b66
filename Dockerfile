# routeloop: one static binary. Build: docker build -t routeloop .
# Run:  docker run -p 8080:8080 -v routeloop-data:/data routeloop
#       (PostgreSQL: -e ROUTELOOP_DATABASE_URL=postgres://user@host:5432/db)

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) \
#   --build-arg BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t routeloop .
# (the build context carries no .git, so the commit and date come from here)
ARG VERSION=dev
ARG COMMIT=unknown
ARG BUILD_DATE=unknown
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.Version=${VERSION} -X main.Commit=${COMMIT} -X main.BuildDate=${BUILD_DATE}" \
      -o /out/routeloop ./cmd/routeloop && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/routeloop /usr/local/bin/routeloop
COPY configs/routeloop.yaml /etc/routeloop/routeloop.yaml
# The data directory must belong to the non-root user before it becomes a volume.
COPY --from=build --chown=65532:65532 /out/data /data
ENV ROUTELOOP_CONFIG=/etc/routeloop/routeloop.yaml \
    ROUTELOOP_ADDR=0.0.0.0:8080 \
    ROUTELOOP_DATA_DIR=/data \
    ROUTELOOP_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/routeloop", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/routeloop"]
CMD ["serve"]
