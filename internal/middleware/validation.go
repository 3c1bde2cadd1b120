package middleware

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/rpcerr"
)

// unaryValidation checks the request against its protovalidate rules.
func unaryValidation(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := checkMessage(v, req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// streamValidation checks every message the handler receives on the stream.
func streamValidation(v protovalidate.Validator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &validatingStream{ServerStream: ss, validator: v})
	}
}

// validatingStream validates each message as the handler receives it.
type validatingStream struct {
	grpc.ServerStream
	validator protovalidate.Validator
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return checkMessage(s.validator, m)
}

// checkMessage returns nil for a valid message, InvalidArgument with one field violation per
// broken rule, or, when the rules themselves cannot be evaluated, a plain error that the
// masking stage turns into Internal: that is our bug, not the client's.
func checkMessage(v protovalidate.Validator, msg any) error {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil
	}
	err := v.Validate(m)
	if err == nil {
		return nil
	}
	if verr, ok := errors.AsType[*protovalidate.ValidationError](err); ok {
		violations := make([]*errdetails.BadRequest_FieldViolation, 0, len(verr.Violations))
		for _, violation := range verr.Violations {
			violations = append(violations, rpcerr.FieldViolation(fieldPath(violation.Proto.GetField()), ruleMessage(violation.Proto)))
		}
		return rpcerr.InvalidArgument(violations...)
	}
	if cerr, ok := errors.AsType[*protovalidate.CompilationError](err); ok {
		// Compilation errors describe the rules in the descriptors, never a value.
		return fmt.Errorf("compiling validation rules for %s: %w", m.ProtoReflect().Descriptor().FullName(), cerr)
	}
	// A runtime error's text comes from evaluating CEL over the message and might quote it.
	return fmt.Errorf("evaluating validation rules for %s: %T", m.ProtoReflect().Descriptor().FullName(), err)
}

// fieldPath renders path as "principal.given_name" or "household_members[1].given_name".
// String map keys are replaced by "*": they are data the caller typed, not schema.
func fieldPath(path *validate.FieldPath) string {
	if slices.ContainsFunc(path.GetElements(), hasStringKey) {
		path = proto.CloneOf(path) // leave the validator's error as it was
		for _, el := range path.GetElements() {
			if hasStringKey(el) {
				el.SetStringKey("*")
			}
		}
	}
	return protovalidate.FieldPathString(path)
}

func hasStringKey(el *validate.FieldPathElement) bool {
	return el.WhichSubscript() == validate.FieldPathElement_StringKey_case
}

// ruleMessage returns the violated rule's description, such as "must be at least 1
// characters". Standard rules never quote the value; the custom rules in our .proto files
// must not either. Rules without a message are named by their id.
func ruleMessage(v *validate.Violation) string {
	if msg := v.GetMessage(); msg != "" {
		return msg
	}
	return v.GetRuleId()
}
