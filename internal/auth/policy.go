package auth

import (
	"slices"
	"strings"
)

// Policy maps a full gRPC method name, e.g.
// "/passage.intake.v1.IntakeService/RegisterCase", to the roles that may call
// it. It fails closed: a method that is not listed is denied to every role.
type Policy map[string][]Role

// publicServices are the method prefixes callable without a token: health
// checks (load balancers, Kubernetes probes) and server reflection.
var publicServices = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

// IsPublic reports whether method needs no token at all: health checks and reflection.
func IsPublic(method string) bool { return isPublic(method) }

// isPublic reports whether method needs no token at all.
func isPublic(method string) bool {
	for _, prefix := range publicServices {
		if strings.HasPrefix(method, prefix) {
			return true
		}
	}
	return false
}

// Allows reports whether role r may call method. Public methods (health,
// reflection) are allowed to everyone; any other method must be listed.
func (p Policy) Allows(method string, r Role) bool {
	if isPublic(method) {
		return true
	}
	return slices.Contains(p[method], r)
}
