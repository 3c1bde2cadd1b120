package auth

import "testing"

func TestPolicyAllows(t *testing.T) {
	t.Parallel()

	const (
		register = "/passage.intake.v1.IntakeService/RegisterCase"
		get      = "/passage.intake.v1.IntakeService/GetCase"
		unlisted = "/passage.intake.v1.IntakeService/DeleteEverything"
	)
	p := Policy{
		register: {RoleCaseworker, RoleSupervisor},
		get:      {},
	}

	tests := []struct {
		name   string
		method string
		role   Role
		want   bool
	}{
		{"listed role", register, RoleCaseworker, true},
		{"another listed role", register, RoleSupervisor, true},
		{"unlisted role", register, RoleAnalyst, false},
		{"admin is not implied", register, RoleAdmin, false},
		{"method with no roles", get, RoleCaseworker, false},
		{"method not in policy", unlisted, RoleAdmin, false},
		{"empty role", register, "", false},
		{"health check", "/grpc.health.v1.Health/Check", "", true},
		{"health watch", "/grpc.health.v1.Health/Watch", RolePartner, true},
		{"reflection v1", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "", true},
		{"reflection v1alpha", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "", true},
		{"look-alike of a public service", "/grpc.health.v1.HealthX/Check", RoleAdmin, false},
		{"public service name without leading slash", "grpc.health.v1.Health/Check", RoleAdmin, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := p.Allows(tt.method, tt.role); got != tt.want {
				t.Errorf("Allows(%q, %q) = %v, want %v", tt.method, tt.role, got, tt.want)
			}
		})
	}

	var empty Policy
	if empty.Allows(register, RoleAdmin) {
		t.Error("nil Policy allowed a method; want fail closed")
	}
}
