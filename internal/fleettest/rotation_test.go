package fleettest

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
)

// rotation is a grpc.ClientConnInterface that sends each call to the next of the live
// processes in turn, so that a case's calls land on every process and a call sent again after
// an error goes to another one.
type rotation struct {
	mu   sync.Mutex
	live []*server
	next int

	acknowledged atomic.Int64 // calls answered OK
}

var _ grpc.ClientConnInterface = (*rotation)(nil)

func (r *rotation) add(s *server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live = append(r.live, s)
}

// remove takes s out of the turn: no call is sent to it any more (those under way go on).
func (r *rotation) remove(s *server) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live = slices.DeleteFunc(r.live, func(x *server) bool { return x == s })
}

func (r *rotation) pick() *grpc.ClientConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next = (r.next + 1) % len(r.live)
	return r.live[r.next].conn
}

// Invoke sends a unary call to the next live process.
func (r *rotation) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	err := r.pick().Invoke(ctx, method, args, reply, opts...)
	if err == nil {
		r.acknowledged.Add(1)
	}
	return err
}

// NewStream opens a stream on the next live process.
func (r *rotation) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return r.pick().NewStream(ctx, desc, method, opts...)
}
