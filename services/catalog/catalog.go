package catalog

import (
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/services/analytics"
	"github.com/passage-cm/passage/services/hasm"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/returns"
	"github.com/passage-cm/passage/services/trafficking"
)

// Services are every service, in start order: intake first, since the others learn of cases
// from its events; analytics last, since it counts what every other one records.
func Services() []bootstrap.Service {
	return []bootstrap.Service{intake.Spec(), returns.Spec(), trafficking.Spec(), hasm.Spec(), analytics.Spec()}
}
