// Package trafficking is the service for assistance to victims of trafficking
// (passage.trafficking.v1.TraffickingService): it keeps, for every VoT case registered
// through intake, the screening outcome, the exploitation details in the CTDC / HTCDS
// vocabulary, direct assistance, law-enforcement cooperation and risk assessment, under
// optimistic concurrency with an outbox event for every fact. It learns of cases from intake's
// outbox and holds subject ids and codes only: no identity, no free text.
package trafficking
