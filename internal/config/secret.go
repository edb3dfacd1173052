package config

import (
	"encoding/json"
	"log/slog"
)

// Secret holds a token or a connection string. Every way of printing it
// (fmt, slog, JSON) shows [redacted]; Reveal is the one way to read it, so a
// leak needs an explicit call a reviewer can see.
type Secret string

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
