// Command passage-trafficking runs the service for victims of trafficking alone. It reads the
// same environment as `passage serve` (see docs/operators.md); --dev uses development keys and
// tokens.
package main

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/trafficking"
)

func main() { bootstrap.Main("passage-trafficking", trafficking.Spec()) }
