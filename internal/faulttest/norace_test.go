//go:build !race

package faulttest

// raceBuild: the test runs without the race detector, and so does the server it builds.
const raceBuild = false
