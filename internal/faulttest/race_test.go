//go:build race

package faulttest

// raceBuild: the test runs under the race detector, and so does the server it builds.
const raceBuild = true
