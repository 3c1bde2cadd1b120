// Package retention decides whose identity has been kept long enough: a policy gives each
// programme a number of years after closure, and a person becomes due for erasure once every
// case they belong to has been closed for longer than its programme's period. It finds the
// people due and counts them for the dry-run report; the erasing itself is intake's
// (services/intake, ErasePerson's path), so an erasure is recorded the same way whoever asks.
package retention
