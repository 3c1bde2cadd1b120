package middleware

import (
	"context"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/passage-cm/passage/internal/quota"
)

// QuotaConfig is what the two quota stages need; see [ChainConfig.Quota].
type QuotaConfig struct {
	// Limiter holds the buckets. Required.
	Limiter *quota.Limiter
	// Public reports whether method is served without a token (health, reflection): such
	// calls are limited per source address, before they run. Required.
	Public func(method string) bool
	// Subject reports the caller the auth stage established: its token's subject, and
	// whether it is a partner agency's. Required.
	Subject func(ctx context.Context) (subject string, partner bool, ok bool)
}

// unaryAddressQuota limits unauthenticated calls per source address: a public method takes
// from its address's bucket before it runs; any other call that auth refuses takes from it
// afterwards, and once the bucket is empty the refusal is RESOURCE_EXHAUSTED with a retry
// delay rather than UNAUTHENTICATED. A call whose token is verified never touches its
// address's bucket, so a field office behind one NAT address is not refused for another
// client's bad token there.
func unaryAddressQuota(q QuotaConfig) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if q.Public(info.FullMethod) {
			if err := takeAddress(ctx, q.Limiter); err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}
		resp, err := handler(ctx, req)
		if status.Code(err) == codes.Unauthenticated {
			if qerr := takeAddress(ctx, q.Limiter); qerr != nil {
				return nil, qerr
			}
		}
		return resp, err
	}
}

// streamAddressQuota is unaryAddressQuota for streams: a stream is one call, charged when
// it opens (public) or when auth refuses it.
func streamAddressQuota(q QuotaConfig) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if q.Public(info.FullMethod) {
			if err := takeAddress(ss.Context(), q.Limiter); err != nil {
				return err
			}
			return handler(srv, ss)
		}
		err := handler(srv, ss)
		if status.Code(err) == codes.Unauthenticated {
			if qerr := takeAddress(ss.Context(), q.Limiter); qerr != nil {
				return qerr
			}
		}
		return err
	}
}

// takeAddress takes one call from the bucket of ctx's peer address.
func takeAddress(ctx context.Context, l *quota.Limiter) error {
	return l.Address(ctx, peerAddr(ctx))
}

// peerAddr is the address of ctx's peer, nil when it has none.
func peerAddr(ctx context.Context) net.Addr {
	if p, ok := peer.FromContext(ctx); ok {
		return p.Addr
	}
	return nil
}

// unaryCallerQuota limits each authenticated caller's calls per class (quota.Classify),
// pricing each by quota.Cost; public methods, which have no caller, pass.
func unaryCallerQuota(q QuotaConfig) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := takeCaller(ctx, q, info.FullMethod, req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// streamCallerQuota is unaryCallerQuota for streams, priced when the stream opens, before
// any message is read.
func streamCallerQuota(q QuotaConfig) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := takeCaller(ss.Context(), q, info.FullMethod, nil); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// takeCaller takes the call's cost from its caller's bucket for the method's class, and a
// partner's call one more from its address's partner bucket. A method no rule classifies
// (the test over every service's methods keeps there being none) is priced as a write, the
// class of calls that change something.
func takeCaller(ctx context.Context, q QuotaConfig, method string, req any) error {
	subject, partner, ok := q.Subject(ctx)
	if !ok {
		return nil
	}
	class, ok := quota.Classify(method, partner)
	if !ok {
		class = quota.Write
	}
	if err := q.Limiter.Caller(ctx, subject, class, quota.Cost(method, req)); err != nil || !partner {
		return err
	}
	return q.Limiter.PartnerAddress(ctx, peerAddr(ctx))
}
