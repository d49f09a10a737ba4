// Package loopback tells the addresses that name this machine only, for
// the rules that relax there: a demo without secrets, plain http, a
// native app's redirect on any port, the debug listener.
package loopback

import "net"

// Host reports whether host, a name or an IP without a port, names this
// machine only: localhost, or a loopback IP (127.0.0.0/8, ::1).
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr reports whether addr, a host:port to listen on, is on loopback
// only. An empty or unspecified host (":8080", "0.0.0.0:8080") listens
// everywhere, so it is not.
func Addr(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	return Host(host)
}
