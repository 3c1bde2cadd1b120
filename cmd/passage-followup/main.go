// Command passage-followup runs the follow-up service alone. It reads the same environment
// as `passage serve` (see docs/operators.md); --dev uses development keys and tokens.
package main

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/followup"
)

func main() { bootstrap.Main("passage-followup", followup.Spec()) }
