// Package returns is the AVRR service (passage.returns.v1.ReturnService): it keeps, for every
// AVRR case registered through intake, the return journey as a series of recorded, versioned
// facts (eligibility, pre-departure, departure, arrival, reintegration plan, assistance,
// monitoring with RSS scores) whose statuses forbid impossible orders, and writes an outbox
// event for each. It learns of cases from intake's events and holds no identity.
package returns
