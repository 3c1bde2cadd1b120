// Package egress keeps Passage's outbound connections to partners (webhook deliveries) on the
// public internet: it refuses loopback, private, link-local (cloud metadata included),
// carrier-grade NAT, multicast, unspecified, documentation and other special-purpose
// addresses, so that a partner URL cannot be used to reach Passage's own network (SSRF).
//
// The check runs on the address actually dialled, after name resolution, as a net.Dialer's
// Control function: a name that resolves to a public address when registered and to an
// internal one later (DNS rebinding) is still refused. A registry can also refuse a URL
// whose host is a literal non-public address up front, with CheckHost. A Policy may allow
// named networks on purpose (a developer's receiver on this machine); none are allowed by
// default.
package egress
