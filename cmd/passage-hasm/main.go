// Command passage-hasm runs the stranded migrants (HASM) service alone, with its consumer of
// intake's events. It reads the same environment as `passage serve` (see docs/operators.md);
// --dev uses development keys and tokens.
package main

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/hasm"
)

func main() { bootstrap.Main("passage-hasm", hasm.Spec()) }
