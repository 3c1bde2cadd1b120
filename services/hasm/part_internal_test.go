package hasm

import (
	"testing"

	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
)

// TestStepPart is HASM's mapping of steps to parts: a new request and every step on a request
// a receiving mission made are RECEPTION's; the steps on the case's own mission's request move
// only with the whole case; HQ's decisions, funds and reads belong to no part.
func TestStepPart(t *testing.T) {
	none := handoverv1.HandoverPart_HANDOVER_PART_UNSPECIFIED
	tests := []struct {
		method      string
		hostRequest bool
		want        handoverv1.HandoverPart
	}{
		{hasmv1.StrandedMigrantService_RequestAssistance_FullMethodName, false, reception},
		{hasmv1.StrandedMigrantService_RecordDeparture_FullMethodName, false, reception},
		{hasmv1.StrandedMigrantService_RecordArrival_FullMethodName, false, reception},
		{hasmv1.StrandedMigrantService_CloseRequest_FullMethodName, false, reception},
		{hasmv1.StrandedMigrantService_RecordDeparture_FullMethodName, true, transfer},
		{hasmv1.StrandedMigrantService_RecordArrival_FullMethodName, true, transfer},
		{hasmv1.StrandedMigrantService_CloseRequest_FullMethodName, true, transfer},
		{hasmv1.StrandedMigrantService_DecideRequest_FullMethodName, false, none},
		{hasmv1.StrandedMigrantService_DecideRequest_FullMethodName, true, none},
		{hasmv1.StrandedMigrantService_CreateFund_FullMethodName, false, none},
		{hasmv1.StrandedMigrantService_SetFundBudget_FullMethodName, false, none},
		{hasmv1.StrandedMigrantService_GetFund_FullMethodName, false, none},
		{hasmv1.StrandedMigrantService_GetRequest_FullMethodName, false, none},
		{hasmv1.StrandedMigrantService_ListRequests_FullMethodName, false, none},
	}
	for _, tt := range tests {
		got, ok := stepPart(tt.method, tt.hostRequest)
		if got != tt.want || ok != (tt.want != none) {
			t.Errorf("stepPart(%s, host request %v) = %v, %v; want %v", tt.method, tt.hostRequest, got, ok, tt.want)
		}
	}
	// Every RPC of the service is in the table above, so a new one is mapped on purpose.
	methods := map[string]bool{}
	for _, tt := range tests {
		methods[tt.method] = true
	}
	for m := range Policy() {
		if !methods[m] {
			t.Errorf("%s has no part in the mapping's test", m)
		}
	}
}
