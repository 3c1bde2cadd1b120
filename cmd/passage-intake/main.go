// Command passage-intake runs the case intake service alone. It reads the same environment
// as `passage serve` (see docs/operators.md); --dev uses development keys and tokens.
package main

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/intake"
)

func main() { bootstrap.Main("passage-intake", intake.Spec()) }
