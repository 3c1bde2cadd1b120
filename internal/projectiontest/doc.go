// Package projectiontest runs a service's consumer of intake's events against a real database,
// for the tests that show a projection's batch handler leaves the rows that applying the same
// events one at a time leaves: intake's events written as intake writes them (a drain's events
// in one transaction, so that one drain reads them all), a consumer drained until it has
// applied what was written, and the projection's rows read back as JSON to compare.
package projectiontest
