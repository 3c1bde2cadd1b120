package failurelog

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/passage-cm/passage/internal/middleware"
)

// Every is how often a failure that goes on is logged again.
const Every = 30 * time.Second

// Log logs one loop's failures. A loop calls Failed after each failed attempt and Succeeded
// after each good one, from one goroutine. Its lines carry the loop's attributes and the
// error, never more: errors here carry no personal data.
type Log struct {
	logger *slog.Logger
	name   string
	attrs  []any
	now    func() time.Time

	failures int       // failed attempts since the last good one
	since    time.Time // when the first of them failed
	logged   time.Time // when a line last said so
}

// New returns the log of the loop called name ("outbox consumer"): its lines say
// "<name> failed" (ERROR) and "<name> recovered" (INFO), with attrs (key-value pairs, as
// slog takes them) on each.
func New(logger *slog.Logger, name string, attrs ...any) *Log {
	return &Log{logger: logger, name: name, attrs: slices.Clip(attrs), now: time.Now}
}

// Failed records a failed attempt. The first of a run is logged at once; later ones at
// ERROR only when Every has passed since the last such line, and at DEBUG otherwise, with the
// count and how long the loop has been failing.
func (l *Log) Failed(ctx context.Context, err error) {
	now := l.now()
	l.failures++
	if l.failures == 1 {
		l.since, l.logged = now, now
		l.logger.ErrorContext(ctx, l.name+" failed", append(l.attrs, middleware.ErrorAttr(err))...)
		return
	}
	level := slog.LevelError
	if now.Sub(l.logged) < Every {
		level = slog.LevelDebug
	} else {
		l.logged = now
	}
	if !l.logger.Enabled(ctx, level) {
		return
	}
	l.logger.Log(ctx, level, l.name+" failed", append(l.attrs, middleware.ErrorAttr(err),
		slog.Int("failures", l.failures), slog.Duration("failing_for", now.Sub(l.since).Round(time.Second)))...)
}

// Succeeded records a good attempt. After failures, it logs that the loop recovered, with
// how many attempts failed and for how long.
func (l *Log) Succeeded(ctx context.Context) {
	if l.failures == 0 {
		return
	}
	l.logger.InfoContext(ctx, l.name+" recovered", append(l.attrs,
		slog.Int("failures", l.failures), slog.Duration("failed_for", l.now().Sub(l.since).Round(time.Second)))...)
	l.failures = 0
}
