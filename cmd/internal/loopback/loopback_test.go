package loopback

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAddr(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "localhost:1": true, "[::1]:9": true, "127.9.9.9:80": true,
		"0.0.0.0:8080": false, ":8080": false, "10.0.0.5:80": false, "[::]:80": false, "localhost.example.com:80": false, "8080": false} {
		assert.Equal(t, want, Addr(addr), addr)
	}
}

func TestHost(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true,
		"LOCALHOST.": false, "0.0.0.0": false, "example.com": false, "": false, "[::1]": false} {
		assert.Equal(t, want, Host(host), host)
	}
}
