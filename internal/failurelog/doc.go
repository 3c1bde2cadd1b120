// Package failurelog logs the failures of a background loop (an outbox consumer, the audit
// chainer, the webhook worker, the analytics refresh) without flooding the log while a
// dependency is down: the first failure of a run at once, then, while they go on, one line
// per interval with how many there have been and for how long, and one line when the loop
// succeeds again. The failures in between are logged at DEBUG, for whoever wants each one.
// A database outage that fails a dozen loops every second thus costs a dozen lines every 30
// seconds, and the operator still sees when it began and when it ended.
package failurelog
