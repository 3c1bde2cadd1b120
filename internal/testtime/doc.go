// Package testtime is time as the tests hold it still: a clock a test sets and moves by hand
// (Clock), the fixed moment the services' tests believe it is (Today), and calendar dates as
// the protos carry them (Day). Production code never imports it: services go by the clock
// bootstrap hands them (bootstrap.Deps.Clock), time.Now outside tests.
package testtime
