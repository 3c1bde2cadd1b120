package server

import (
	"context"
	"strconv"
	"sync"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/passage-cm/passage/internal/rpcerr"
)

// A request that does not decode (invalid UTF-8 in a string field, malformed wire data) is
// the client's fault, yet grpc-go answers it with INTERNAL, before any interceptor runs. The
// requestCodec decodes as grpc's own proto codec does, but on failure it resets the message,
// remembers it as undecodable and lets the call proceed; the refuseUndecodable interceptor,
// outermost of all, then answers INVALID_ARGUMENT. The message is reset so that nothing
// half-decoded can ever reach a handler, and the mark is removed by the interceptor, which
// runs for every unary call, so marks do not accumulate. Being outermost, the refusal comes
// before authentication: a caller without a token learns only that its bytes are malformed,
// which the public contracts already tell it.
type requestCodec struct {
	encoding.CodecV2
	undecodable *sync.Map // request message -> the field that is not UTF-8, or ""
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
	m, ok := v.(protov2.Message)
	if !ok {
		return err
	}
	field := invalidUTF8Field(m.ProtoReflect().Descriptor(), data.Materialize())
	protov2.Reset(m)
	c.undecodable.Store(v, field)
	return nil
}

// undecodable is the refusal of a request that did not decode, naming the field when it was
// a string that is not valid UTF-8 (protobuf's own error names none).
func undecodable(field string) error {
	if field == "" {
		return errUndecodable
	}
	return rpcerr.InvalidArgument(rpcerr.FieldViolation(field, "must be valid UTF-8"))
}

// invalidUTF8Field walks the encoded message b of type md and returns the path
// ("household_members[1].given_name") of the first string field that is not valid UTF-8, or "".
func invalidUTF8Field(md protoreflect.MessageDescriptor, b []byte) string {
	seen := map[protowire.Number]int{} // elements of each repeated field so far
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return ""
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		if fd == nil {
			continue
		}
		name := string(fd.Name())
		if fd.IsList() {
			name += "[" + strconv.Itoa(seen[num]) + "]"
			seen[num]++
		}
		switch fd.Kind() {
		case protoreflect.StringKind:
			if !utf8.Valid(v) {
				return name
			}
		case protoreflect.MessageKind:
			if fd.IsMap() {
				continue
			}
			if inner := invalidUTF8Field(fd.Message(), v); inner != "" {
				return name + "." + inner
			}
		}
	}
	return ""
}

// refuseUndecodable answers INVALID_ARGUMENT for a request the codec could not decode,
// naming the field but never echoing its bytes.
func (c requestCodec) refuseUndecodable(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if field, bad := c.undecodable.LoadAndDelete(req); bad {
		return nil, undecodable(field.(string))
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
	if field, bad := s.codec.undecodable.LoadAndDelete(m); bad {
		return undecodable(field.(string))
	}
	return nil
}
