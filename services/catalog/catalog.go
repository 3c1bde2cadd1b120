package catalog

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/followup"
	"github.com/passage-cm/passage/services/handover"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/referral"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// Services are every service, in start order: intake first, since the others learn of cases
// from its events; referral next, the one with partner-facing HTTP bindings; followup after
// the programmes whose events it follows; handover, which learns of cases from intake too;
// analytics last, since it counts what every other one records.
func Services() []bootstrap.Service {
	return []bootstrap.Service{intake.Spec(), returns.Spec(), trafficking.Spec(), hasm.Spec(), referral.Spec(), followup.Spec(),
		handover.Spec(), analytics.Spec()}
}
