package testserver

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Call is one unary call a test made: the full method, the request and the status code the
// server answered.
type Call struct {
	Method  string
	Request proto.Message
	Code    codes.Code
}

// CallLog records the calls made through an Env's connection, so a test can hold what the
// server wrote (audit records, say) against what was asked of it.
type CallLog struct {
	mu    sync.Mutex
	calls []Call
}

func (l *CallLog) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	c := Call{Method: method, Code: status.Code(err)}
	if m, ok := req.(proto.Message); ok {
		c.Request = proto.Clone(m)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
	return err
}

// All returns the calls made so far.
func (l *CallLog) All() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}
