// Command passage-returns runs the AVRR return service alone. It reads the same environment
// as `passage serve` (see docs/operators.md); --dev uses development keys and tokens.
package main

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/returns"
)

func main() { bootstrap.Main("passage-returns", returns.Spec()) }
