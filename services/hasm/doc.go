// Package hasm is the Humanitarian Assistance for Stranded Migrants service
// (passage.hasm.v1.StrandedMigrantService): a mission requests a stranded migrant's return,
// programme managers at HQ approve or reject it against a fund whose yearly budget can never
// be overdrawn, even by concurrent approvals, and the approved return is recorded with the
// same departure event as AVRR. It learns of HASM cases from intake's outbox events.
package hasm
