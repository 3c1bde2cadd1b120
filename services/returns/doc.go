// Package returns is the AVRR service (passage.returns.v1.ReturnService): it keeps, for every
// AVRR case registered through intake, the return journey as a series of recorded, versioned
// facts (eligibility, pre-departure, departure, arrival, reintegration plan, assistance,
// monitoring with RSS scores) whose statuses forbid impossible orders, and writes an outbox
// event for each. It learns of cases from intake's events and holds no identity.
//
// A return is one journey, one status and one version sequence, worked in parts (parts.go).
// The case's own mission (the one that registered it) takes every step until a hand-over gives
// a part to another mission: the same consumer that follows intake reads the hand-over
// service's HandoverAccepted events into returns.part (internal/handoverpart). Arrival is
// RECEPTION's step; the reintegration plan and assistance REINTEGRATION's; monitoring visits
// MONITORING's; closing and reopening CLOSURE's once the travellers have left (before, they stay
// the own mission's); eligibility, pre-departure steps and departure stay the own mission's
// unless a TRANSFER hands over the whole case. The holder of a part takes its steps, under its
// own mission (its facts, events, audit and idempotency records are its own); the own mission
// is refused them (FAILED_PRECONDITION, PART_HANDED_OVER, naming the part and the holder's
// mission), another holder of the case too (PART_NOT_HELD); a third mission finds nothing
// (NOT_FOUND). Which mission may take the step is decided (handoverpart.Check) on the return
// as the step reads it, with the grants in the same statement: no round trip of its own.
//
// GetReturn and ListReturns show a receiving mission the returns it holds parts of, and each
// mission only the facts row-level security lets it read (migrations/000025): eligibility and
// pre-departure to the own mission and a TRANSFER's receiver; departure and arrival to the
// recorder, the own mission and every holder; closing and reopening to the recorder and the own
// mission; plans, assistance and monitoring visits to their recorder alone. The sending mission
// thus keeps the outcomes (status, arrival, closure), never the receiver's plan, assistance or
// scores. Return.part_holders says which part another mission holds. A receiving mission's
// first request after an acceptance waits for the consumer before it is told NOT_FOUND.
package returns
