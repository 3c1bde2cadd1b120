// Package buildinfo says which build of Passage is running: the module version and the
// version-control commit, time and modified flag that the Go toolchain records in every
// binary (runtime/debug.ReadBuildInfo). It is the one source of the version that
// `passage version`, `passage-<service> --version`, telemetry's service.version and analytics'
// release provenance report.
package buildinfo
