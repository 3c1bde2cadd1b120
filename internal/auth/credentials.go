package auth

import (
	"context"

	"google.golang.org/grpc/credentials"
)

// BearerCredentials returns per-RPC credentials that send token as
// "authorization: Bearer <token>". With requireTLS, gRPC itself refuses to
// send the token over a connection without transport security; only turn it
// off for a local development server.
func BearerCredentials(token string, requireTLS bool) credentials.PerRPCCredentials {
	return bearerCredentials{token: token, requireTLS: requireTLS}
}

type bearerCredentials struct {
	token      string
	requireTLS bool
}

func (b bearerCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearerCredentials) RequireTransportSecurity() bool { return b.requireTLS }
