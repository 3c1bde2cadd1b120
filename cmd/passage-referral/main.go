// Command passage-referral runs the referral service alone, with its consumer of intake's
// events, its expiry job and the partners' HTTP/JSON gateway (PASSAGE_PARTNER_HTTP_ADDR). It
// reads the same environment as `passage serve` (see docs/operators.md); --dev uses development
// keys and tokens.
package main

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/referral"
)

func main() { bootstrap.Main("passage-referral", referral.Spec()) }
