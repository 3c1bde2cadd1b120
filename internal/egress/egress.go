package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/passage-cm/passage/internal/envconfig"
)

// KindPublicOverHTTP is the Kind of a public address refused by an OnlyAllowed policy.
const KindPublicOverHTTP = "public address, over plain http"

// ErrRefused is what every refusal matches with errors.Is.
var ErrRefused = errors.New("egress: destination address is not public")

// RefusedError says why a destination was refused: the kind of address, and the range it is
// in. It never holds the URL, whose path or query may carry a partner's token.
type RefusedError struct {
	// Kind names the special-purpose range ("loopback", "private", "link-local", ...).
	Kind string
	// Range is the range the address is in, as CIDR.
	Range netip.Prefix
}

func (e *RefusedError) Error() string {
	if !e.Range.IsValid() {
		return "egress: " + e.Kind + " address refused"
	}
	return fmt.Sprintf("egress: %s address refused (%s)", e.Kind, e.Range)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// special is one range of addresses that are not public unicast destinations.
type special struct {
	prefix netip.Prefix
	kind   string
}

func mustSpecial(cidr, kind string) special {
	return special{prefix: netip.MustParsePrefix(cidr), kind: kind}
}

// The IPv4 special-purpose ranges (IANA's IPv4 Special-Purpose Address Registry, RFC 6890 and
// its updates) and the multicast and reserved space. Anything else is public.
var v4Special = []special{
	mustSpecial("0.0.0.0/8", "unspecified"), // "this network"; 0.0.0.0 reaches the local host
	mustSpecial("10.0.0.0/8", "private"),
	mustSpecial("100.64.0.0/10", "carrier-grade NAT"),
	mustSpecial("127.0.0.0/8", "loopback"),
	mustSpecial("169.254.0.0/16", "link-local"), // 169.254.169.254: cloud instance metadata
	mustSpecial("172.16.0.0/12", "private"),
	mustSpecial("192.0.0.0/24", "IETF protocol assignment"),
	mustSpecial("192.0.2.0/24", "documentation"),
	mustSpecial("192.31.196.0/24", "AS112"),
	mustSpecial("192.52.193.0/24", "AMT"),
	mustSpecial("192.88.99.0/24", "6to4 relay"),
	mustSpecial("192.168.0.0/16", "private"),
	mustSpecial("192.175.48.0/24", "AS112"),
	mustSpecial("198.18.0.0/15", "benchmarking"),
	mustSpecial("198.51.100.0/24", "documentation"),
	mustSpecial("203.0.113.0/24", "documentation"),
	mustSpecial("224.0.0.0/4", "multicast"),
	mustSpecial("240.0.0.0/4", "reserved"), // and 255.255.255.255, broadcast
}

// IPv6 is checked the other way round: only global unicast (2000::/3) can be public, less the
// special ranges inside it. Addresses that embed an IPv4 address (IPv4-mapped, NAT64, 6to4)
// are judged by the address they embed, so ::ffff:127.0.0.1 is loopback.
var (
	v6Global  = netip.MustParsePrefix("2000::/3")
	v6Special = []special{
		mustSpecial("2001::/23", "IETF protocol assignment"), // Teredo, ORCHID, benchmarking, ...
		mustSpecial("2001:db8::/32", "documentation"),
		mustSpecial("3fff::/20", "documentation"),
	}
	// Outside 2000::/3, named for a helpful refusal; the rest is "reserved".
	v6Named = []special{
		mustSpecial("::/128", "unspecified"),
		mustSpecial("::1/128", "loopback"),
		mustSpecial("64:ff9b:1::/48", "local NAT64"),
		mustSpecial("100::/64", "discard-only"),
		mustSpecial("5f00::/16", "SRv6"),
		mustSpecial("fc00::/7", "unique local (private)"),
		mustSpecial("fe80::/10", "link-local"),
		mustSpecial("fec0::/10", "site-local"),
		mustSpecial("ff00::/8", "multicast"),
	}
	v6Reserved = netip.MustParsePrefix("::/0")
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// classify returns the special range addr is in, or ok false when addr is public unicast.
func classify(addr netip.Addr) (special, bool) {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		addr = addr.Unmap()
	}
	if addr.Is4() {
		for _, s := range v4Special {
			if s.prefix.Contains(addr) {
				return s, true
			}
		}
		return special{}, false
	}
	b := addr.As16()
	switch {
	case nat64.Contains(addr):
		return classify(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(addr):
		return classify(netip.AddrFrom4([4]byte(b[2:6])))
	case v6Global.Contains(addr):
		for _, s := range v6Special {
			if s.prefix.Contains(addr) {
				return s, true
			}
		}
		return special{}, false
	}
	for _, s := range v6Named {
		if s.prefix.Contains(addr) {
			return s, true
		}
	}
	return special{prefix: v6Reserved, kind: "reserved"}, true
}

// Policy decides which destination addresses may be connected to: public unicast ones, and
// those in Allow.
type Policy struct {
	// Allow lists networks reachable although not public: a development receiver on this
	// machine (127.0.0.0/8, ::1/128), a partner on a private network you declared. Empty by
	// default, and in production.
	Allow []netip.Prefix

	// only refuses public addresses too (see OnlyAllowed).
	only bool
}

// Allowed reports whether addr is in one of the networks allowed on purpose.
func (p Policy) Allowed(addr netip.Addr) bool {
	addr = addr.WithZone("").Unmap()
	for _, n := range p.Allow {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// Check returns nil when addr may be connected to, and a *RefusedError otherwise.
func (p Policy) Check(addr netip.Addr) error {
	if !addr.IsValid() {
		return &RefusedError{Kind: "invalid", Range: netip.Prefix{}}
	}
	if p.Allowed(addr) {
		return nil
	}
	s, blocked := classify(addr)
	switch {
	case blocked:
		return &RefusedError{Kind: s.kind, Range: s.prefix}
	case p.only:
		return &RefusedError{Kind: KindPublicOverHTTP, Range: netip.Prefix{}}
	}
	return nil
}

// Control is a net.Dialer Control function: it runs after name resolution, on each address
// the dialer is about to connect to, and refuses the connection when Check does.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Kind: "unparsable", Range: netip.Prefix{}}
	}
	return p.Check(ap.Addr())
}

// OnlyAllowed is the policy that lets through the networks p allows and nothing else, not
// even public addresses: what plain http may reach (a network declared as one's own; on the
// public internet, https only).
func (p Policy) OnlyAllowed() Policy { return Policy{Allow: p.Allow, only: true} }

// Transport returns an HTTP transport whose every connection is checked by p at dial time. It
// uses no proxy: through a proxy the dialled address would be the proxy's, and the check
// would say nothing about where the request goes.
func (p Policy) Transport(timeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
	return t
}

// CheckHost checks a URL's host, as a registry does when the URL is written: a literal
// address must pass Check; a name that is an address in disguise ("2130706433", "0x7f.1",
// which some resolvers read as 127.0.0.1) or that names this machine ("localhost") is judged
// as that address. Other names are not resolved here (what they resolve to can change): the
// dial-time check is what guards them.
func (p Policy) CheckHost(host string) error {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if addr, err := netip.ParseAddr(host); err == nil {
		return p.Check(addr)
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		// RFC 6761: always the loopback address.
		return p.Check(netip.MustParseAddr("127.0.0.1"))
	}
	if numericHost.MatchString(host) {
		return &RefusedError{Kind: "numeric host name", Range: netip.Prefix{}}
	}
	return nil
}

// numericHost matches the inet_aton forms of an IPv4 address that are not dotted-quad
// decimal: one to four parts, each decimal, octal or hexadecimal.
var numericHost = regexp.MustCompile(`^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$`)

// Networks is a list of networks as PASSAGE_WEBHOOK_ALLOW_NETWORKS gives it: comma-separated
// CIDR prefixes or single addresses. It is read by internal/envconfig.
type Networks []netip.Prefix

// UnmarshalText reads a list as [ParseNetworks] does.
func (n *Networks) UnmarshalText(b []byte) error {
	nets, err := ParseNetworks(string(b))
	if err != nil {
		return envconfig.Reason("want CIDR prefixes or addresses separated by commas, e.g. 127.0.0.0/8,::1")
	}
	*n = nets
	return nil
}

// ParseNetworks reads a comma-separated list of CIDR prefixes or single addresses
// ("127.0.0.0/8,::1"), as an environment variable gives them.
func ParseNetworks(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("egress: %q is neither a CIDR prefix nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Loopback is this machine's networks, 127.0.0.0/8 and ::1: what a developer allows to reach
// a receiver running beside the server, and what tests allow for theirs.
func Loopback() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}
