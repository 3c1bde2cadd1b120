package docs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// Method returns the registered method a grpcurl line names ("package.Service/Method"), from
// the descriptors linked into the binary.
func Method(name string) (protoreflect.MethodDescriptor, error) {
	service, method, ok := strings.Cut(name, "/")
	if !ok {
		return nil, fmt.Errorf("%q is not SERVICE/METHOD", name)
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("no service %s", service)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", service)
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil, fmt.Errorf("service %s has no method %s", service, method)
	}
	return md, nil
}

// Invoker returns what Session.GRPC needs: a unary call on conn with the request given as
// JSON and headers as grpcurl's -H ("name: value"), its response as JSON, as grpcurl makes.
func Invoker(conn grpc.ClientConnInterface) func(method string, header []string, request string) (string, error) {
	return func(method string, header []string, request string) (string, error) {
		md, err := Method(method)
		if err != nil {
			return "", err
		}
		in, err := newMessage(md.Input())
		if err != nil {
			return "", err
		}
		out, err := newMessage(md.Output())
		if err != nil {
			return "", err
		}
		if err := protojson.Unmarshal([]byte(request), in); err != nil {
			return "", fmt.Errorf("the request is not a %s: %w", md.Input().FullName(), err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, h := range header {
			name, value, ok := strings.Cut(h, ":")
			if !ok {
				return "", fmt.Errorf("header %q is not NAME: VALUE", h)
			}
			ctx = metadata.AppendToOutgoingContext(ctx, strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value))
		}
		if err := conn.Invoke(ctx, "/"+method, in, out); err != nil {
			return "", err
		}
		b, err := protojson.Marshal(out)
		return string(b), err
	}
}

func newMessage(d protoreflect.MessageDescriptor) (protoreflect.ProtoMessage, error) {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(d.FullName())
	if err != nil {
		return nil, fmt.Errorf("no Go type for %s: %w", d.FullName(), err)
	}
	return mt.New().Interface(), nil
}
