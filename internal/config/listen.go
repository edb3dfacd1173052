package config

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*\.?$`)

// CheckListenAddr validates a TCP listen address, host:port, where the host
// may be empty (every interface), an IP address or a host name, and the port
// is 0 (any free port) to 65535. It is checked with the rest of the
// configuration, so a typo fails before the warehouse is touched rather
// than after the migrations ran.
func CheckListenAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || strings.HasPrefix(port, "+") {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host == "" || net.ParseIP(host) != nil {
		return nil
	}
	if ip, zone, ok := strings.Cut(host, "%"); ok && net.ParseIP(ip) != nil && zone != "" {
		return nil // IPv6 with a zone, [fe80::1%eth0]
	}
	if len(host) > 253 || !hostName.MatchString(host) {
		return fmt.Errorf("%q: host %q is not an IP address or a host name", addr, host)
	}
	return nil
}
