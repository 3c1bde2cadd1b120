package auth

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestValidMission(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		role    Role
		mission string
		want    bool
	}{
		{"country", RoleCaseworker, "NER", true},
		{"sub-office", RoleCaseworker, "NER-AGADEZ", true},
		{"sub-office digits", RoleSupervisor, "LBY-02", true},
		{"suffix too short", RoleCaseworker, "NER-A", false},
		{"suffix too long", RoleCaseworker, "NER-ABCDEFGHIJKLMNOPQ", false},
		{"lower case", RoleCaseworker, "ner", false},
		{"two letters", RoleCaseworker, "NE", false},
		{"four letters", RoleCaseworker, "NIGR", false},
		{"trailing newline", RoleCaseworker, "NER\n", false},
		{"empty", RoleCaseworker, "", false},
		{"HQ for analyst", RoleAnalyst, "HQ", true},
		{"HQ for programme manager", RoleProgrammeManager, "HQ", true},
		{"HQ for admin", RoleAdmin, "HQ", true},
		{"HQ for caseworker", RoleCaseworker, "HQ", false},
		{"HQ for partner", RolePartner, "HQ", false},
		{"HQ role in a mission", RoleProgrammeManager, "NER", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := validMission(tt.role, tt.mission); got != tt.want {
				t.Errorf("validMission(%q, %q) = %v, want %v", tt.role, tt.mission, got, tt.want)
			}
		})
	}
}

func TestClaimsInMission(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		claims  Claims
		mission string
		want    bool
	}{
		{"same mission", Claims{Role: RoleCaseworker, Mission: "NER"}, "NER", true},
		{"other mission", Claims{Role: RoleCaseworker, Mission: "NER"}, "MLI", false},
		{"sub-office is not the country", Claims{Role: RoleCaseworker, Mission: "NER-AGADEZ"}, "NER", false},
		{"country is not the sub-office", Claims{Role: RoleCaseworker, Mission: "NER"}, "NER-AGADEZ", false},
		{"HQ gets no mission's data", Claims{Role: RoleProgrammeManager, Mission: "HQ"}, "NER", false},
		{"empty never matches", Claims{}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.claims.InMission(tt.mission); got != tt.want {
				t.Errorf("InMission(%q) = %v, want %v", tt.mission, got, tt.want)
			}
		})
	}
}

func TestClaimsContext(t *testing.T) {
	t.Parallel()

	if _, ok := FromContext(t.Context()); ok {
		t.Error("FromContext() on a bare context: ok = true, want false")
	}

	want := Claims{Subject: "staff-1", Role: RoleSupervisor, Mission: "MLI", ExpiresAt: time.Unix(2000000000, 0)}
	got, ok := FromContext(WithClaims(t.Context(), want))
	if !ok {
		t.Fatal("FromContext() ok = false, want true")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromContext() mismatch (-want +got):\n%s", diff)
	}
}

func TestCaller(t *testing.T) {
	t.Parallel()

	want := Claims{Subject: "staff-1", Role: RoleCaseworker, Mission: "NER", ExpiresAt: time.Unix(2000000000, 0)}
	got, err := Caller(WithClaims(t.Context(), want))
	if err != nil {
		t.Fatalf("Caller() with claims: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Caller() mismatch (-want +got):\n%s", diff)
	}

	_, err = Caller(t.Context())
	st := status.Convert(err)
	if diff := cmp.Diff([]any{codes.Unauthenticated, "missing or invalid bearer token"}, []any{st.Code(), st.Message()}); diff != "" {
		t.Errorf("Caller() without claims: status mismatch (-want +got):\n%s", diff)
	}
}
