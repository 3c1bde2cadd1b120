// Package compose holds the Docker Compose example that runs Passage on one VM (compose.yaml,
// next to this file, with the configuration files it mounts) and the test that checks it
// without a container engine: it loads compose.yaml with compose-go, which validates it
// against the Compose specification's schema, and checks what an operator relies on: images
// pinned by version, health checks, start-up order, no secret in an environment value, TLS
// settings, and Passage variables that internal/bootstrap knows. It has no code of its own.
package compose
