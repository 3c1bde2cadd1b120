package auth

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRole(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		want    Role
		wantErr bool
	}{
		{in: "caseworker", want: RoleCaseworker},
		{in: "supervisor", want: RoleSupervisor},
		{in: "programme_manager", want: RoleProgrammeManager},
		{in: "analyst", want: RoleAnalyst},
		{in: "partner", want: RolePartner},
		{in: "admin", want: RoleAdmin},
		{in: "Admin", wantErr: true},
		{in: " admin", wantErr: true},
		{in: "program_manager", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRole(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseRole(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseRole(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAllRoles(t *testing.T) {
	t.Parallel()

	want := []Role{RoleCaseworker, RoleSupervisor, RoleProgrammeManager, RoleAnalyst, RolePartner, RoleAdmin}
	got := AllRoles()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("AllRoles() mismatch (-want +got):\n%s", diff)
	}
	// Callers get a copy: changing it must not change the roles ParseRole knows.
	got[0] = "root"
	if _, err := ParseRole("root"); err == nil {
		t.Error(`ParseRole("root") succeeded after mutating AllRoles()`)
	}
}

func TestRoleIsHQ(t *testing.T) {
	t.Parallel()

	want := map[Role]bool{
		RoleCaseworker:       false,
		RoleSupervisor:       false,
		RoleProgrammeManager: true,
		RoleAnalyst:          true,
		RolePartner:          false,
		RoleAdmin:            true,
		"":                   false,
	}
	got := make(map[Role]bool)
	for r := range want {
		got[r] = r.IsHQ()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IsHQ mismatch (-want +got):\n%s", diff)
	}
}
