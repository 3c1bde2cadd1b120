package testtime

import (
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/type/date"
)

// Today is the moment the services' tests believe it is, so that ages, "future" dates and
// this year's figures do not change with the day the tests run.
var Today = time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)

// Clock is a clock a test sets and moves; it is safe for the server's goroutines to read
// while the test moves it. Hand its Now to what takes a func() time.Time.
type Clock struct {
	mu    sync.Mutex
	at    time.Time     // where a set clock stands
	step  time.Duration // how far a ticking clock moves on each reading
	real  bool          // follows time.Now rather than at
	ahead time.Duration // how far Advance has moved it
}

// NewClock returns a clock standing at t: it moves only by Advance.
func NewClock(t time.Time) *Clock {
	return &Clock{at: t}
}

// Ticking returns a clock at t that moves a millisecond on every reading (the first reads
// t plus a millisecond), so that whatever a service stamps in turn is strictly ordered and
// "newest first" is defined, while the day stays the same.
func Ticking(t time.Time) *Clock {
	return &Clock{at: t, step: time.Millisecond}
}

// Running returns a clock that reads the real time, moved ahead by Advance: for tests that
// skip past a deadline but must otherwise stay in step with the database's clock.
func Running() *Clock {
	return &Clock{real: true}
}

// Now returns the clock's time, moving it first when it ticks.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		return time.Now().Add(c.ahead)
	}
	c.at = c.at.Add(c.step)
	return c.at.Add(c.ahead)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
}

// Day returns the calendar date y-m-d as the protos carry it.
func Day(y, m, d int32) *date.Date {
	return &date.Date{Year: y, Month: m, Day: d}
}
