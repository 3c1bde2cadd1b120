// Package image holds what builds Passage's container images: ocibuild (the command `make
// image` runs, on internal/ociimage) and the Dockerfile for operators who build with Docker.
// Its tests keep the two in step (the Dockerfile's stages, user, entrypoints, environment,
// ports, labels and base files against the Go-built images' configuration) and, given the
// images `make image` built (PASSAGE_IMAGE, as `make image-test` sets it), unpack each image's
// layers as a runtime would and run its binary from that filesystem as the image's user:
// `--version` and the image's health check (its own command's `healthcheck`, failing with
// nothing listening) for every command, and `passage migrate up` and `passage serve` answering
// /healthz, /readyz and the health check on a throwaway database. It has no code of its own.
package image
