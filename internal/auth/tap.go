package auth

import (
	"context"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/tap"
)

// tapVerifyTimeout bounds a verification in the tap handle, which holds up the connection's
// reader: enough for a JWKS refresh when a token names a new key, no more.
const tapVerifyTimeout = 5 * time.Second

// TapHandle authenticates a call when its stream opens, from its headers alone, before any of
// its message is read (pass it to grpc.InTapHandle). grpc reads a whole request, up to the
// server's message limit, before interceptors run: without the handle, a caller with no valid
// token could make the server read and hold a large message per call. A call to a method that
// is not public without one well-formed bearer token, or with a token v refuses, is refused
// with the status the interceptors give it (UNAUTHENTICATED, "missing or invalid bearer
// token"); the interceptors still run for the calls it lets through, to authorize them and put
// the Claims in their context.
//
// grpc runs the handle on the connection's reader, so v must answer quickly: wrap it with
// [Cached], and a token verified here is a cache hit in the interceptor. refused, when not
// nil, is called for each call the handle refuses (to count them: they never reach the
// interceptors, so they have no log line and no request id).
func TapHandle(v Verifier, refused func(ctx context.Context, method string)) tap.ServerInHandle {
	mustVerifier(v)
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		if isPublic(info.FullMethodName) {
			return ctx, nil
		}
		vctx, cancel := context.WithTimeout(metadata.NewIncomingContext(ctx, info.Header), tapVerifyTimeout)
		defer cancel()
		if _, err := authenticate(vctx, v, info.FullMethodName); err != nil {
			if refused != nil {
				refused(ctx, info.FullMethodName)
			}
			return ctx, err
		}
		return ctx, nil
	}
}
