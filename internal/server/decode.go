package server

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// A request that does not decode (invalid UTF-8 in a string field, malformed wire data) is
// the client's fault, yet grpc-go answers it with INTERNAL, before any interceptor runs. The
// requestCodec decodes as grpc's own proto codec does, but on failure it resets the message,
// remembers it as undecodable and lets the call proceed; the refuseUndecodable interceptor,
// outermost of all, then answers INVALID_ARGUMENT. The message is reset so that nothing
// half-decoded can ever reach a handler, and the mark is removed by the interceptor, which
// runs for every unary call, so marks do not accumulate.
type requestCodec struct {
	encoding.CodecV2
	undecodable *sync.Map // request message -> its decoding error
}

var errUndecodable = status.Error(codes.InvalidArgument,
	"request does not decode: malformed protobuf, or a string field that is not valid UTF-8")

func newRequestCodec() requestCodec {
	return requestCodec{CodecV2: encoding.GetCodecV2(proto.Name), undecodable: &sync.Map{}}
}

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	if r, ok := v.(interface{ Reset() }); ok {
		r.Reset()
		c.undecodable.Store(v, err)
		return nil
	}
	return err
}

// refuseUndecodable answers INVALID_ARGUMENT for a request the codec could not decode. The
// message is fixed: protobuf's fast decoder does not say which field failed, and the bytes
// themselves are never echoed.
func (c requestCodec) refuseUndecodable(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if _, bad := c.undecodable.LoadAndDelete(req); bad {
		return nil, errUndecodable
	}
	return handler(ctx, req)
}

// refuseUndecodableStream does the same for each message a streaming handler receives.
func (c requestCodec) refuseUndecodableStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, decodedStream{ServerStream: ss, codec: c})
}

type decodedStream struct {
	grpc.ServerStream
	codec requestCodec
}

func (s decodedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if _, bad := s.codec.undecodable.LoadAndDelete(m); bad {
		return errUndecodable
	}
	return nil
}
