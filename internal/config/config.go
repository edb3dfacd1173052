// Package config loads engage-etl's configuration from a YAML file and the
// environment, fills defaults and validates it. It is the only package that
// reads environment variables.
//
// Every error names the key that is wrong (a YAML path such as
// tenants[0].timezone, or an environment variable) and says how to fix it;
// nothing is silently corrected.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/redact"
)

// Config is the validated configuration.
type Config struct {
	DatabaseURL     Secret
	Tenants         []Tenant
	Sync            Sync
	HTTPAddr        string
	Schedules       map[string]string // stream group -> cron expression (UTC unless CRON_TZ=)
	ShutdownTimeout time.Duration

	dialect catalog.Dialect // the api: section over CONTRACT.md's; tenants may override it
	reports map[string]catalog.Override
	streams map[string]catalog.Override
	envOnly bool // the one tenant came from ENGAGE_* variables
}

// TenantFromEnv reports whether the tenant was configured by ENGAGE_*
// environment variables rather than the file.
func (c *Config) TenantFromEnv() bool { return c.envOnly }

// Tenant is one Engage account to extract.
type Tenant struct {
	ID                string
	BaseURL           string
	Token             Secret
	Timezone          string
	Location          *time.Location
	StartDate         civil.Date // first day to load when a stream has no cursor; zero: Sync.DefaultHistoryDays ago
	RequestsPerSecond float64    // 0: unpaced, meant for a local simulator (Unpaced, UnpacedRemote)
	Burst             int
	MaxAttempts       int
	RequestTimeout    time.Duration   // one request, answer included
	WebhookSecret     Secret          // shared secret of POST /webhooks/engage; empty: webhooks refused
	Dialect           catalog.Dialect // how this tenant's API spells the contract (api:, tenants[].api:)
}

// Sync tunes the pipeline.
type Sync struct {
	WindowParallelism    int           // windows in flight per stream
	StreamParallelism    int           // streams in flight per tenant
	MessageParallelism   int           // conversations whose messages are fetched at once
	DefaultHistoryDays   int           // history loaded on the first sync when no start_date is set
	StoreMessageText     bool          // keep chat message text (personal data); off by default
	WindowTimeout        time.Duration // one window's fetch, 429 waits and retries included
	ChunkBytes           int           // a chunk of a paged window (activity logs): its memory and raw row
	ListRefresh          time.Duration // a sync reads a list again only when it loaded longer ago; 0: every sync
	OpenHorizon          time.Duration // a sync re-reads days this recent that hold open conversations; 0: only the lookback
	RecentDays           int           // a first sync or backfill loads these last days of every stream first; 0: the pipeline's default (7)
	StreamsInFlight      int           // streams a process runs at once over all tenants; 0: the pipeline's default (64)
	DetailWindowElements int           // a long load's detail requests hold about this many elements at most; 0: the pipeline's default (5000)
	MessageHistoryDays   int           // a first sync fetches the messages of at most these last days; 0: all the days it loads
}

// Defaults.
const (
	DefaultRequestsPerSecond  = 5
	DefaultWindowParallelism  = 4
	DefaultStreamParallelism  = 4
	DefaultMessageParallelism = 4
	DefaultHistoryDays        = 30
	DefaultHTTPAddr           = "127.0.0.1:9464"
	DefaultShutdownTimeout    = 30 * time.Second
	DefaultWindowTimeout      = 30 * time.Minute
	DefaultChunkBytes         = 4 << 20
	DefaultListRefresh        = time.Hour
	DefaultOpenHorizon        = 30 * 24 * time.Hour
	DefaultTenantID           = "default"
	DefaultTimezone           = "UTC"
	maxRequestsPerSecondLimit = 1000
)

// Error is a configuration problem: which key, what is wrong, how to fix it.
type Error struct {
	Key     string
	Problem string
	Fix     string
}

func (e *Error) Error() string {
	msg := e.Key + ": " + e.Problem
	if e.Fix != "" {
		msg += ": " + e.Fix
	}
	return msg
}

// LookupEnv reads an environment variable; os.LookupEnv in production, a map
// in tests.
type LookupEnv func(string) (string, bool)

// Load reads the YAML file at path (none when path is empty), then the
// environment, and validates the result.
func Load(path string, env LookupEnv) (*Config, error) {
	var f file
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, &Error{Key: "--config", Problem: err.Error(), Fix: "pass the path of a readable YAML file (see config.example.yaml)"}
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty file is io.EOF: it configures nothing, which is fine.
		if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
			return nil, yamlError(path, err)
		}
	}
	return f.resolve(env)
}

// RequireDatabase fails when no database is configured.
func (c *Config) RequireDatabase() error {
	if c.DatabaseURL == "" {
		return &Error{Key: "DATABASE_URL", Problem: "not set", Fix: "set DATABASE_URL or database_url in the config file, e.g. postgres://user@127.0.0.1:5432/warehouse"}
	}
	return nil
}

// RequireTenants fails when no tenant is configured.
func (c *Config) RequireTenants() error {
	if len(c.Tenants) == 0 {
		return &Error{Key: "tenants", Problem: "no tenant configured", Fix: "set ENGAGE_API_TOKEN (and ENGAGE_BASE_URL, ENGAGE_TIMEZONE), or list tenants in the config file"}
	}
	return nil
}

// Streams returns the catalog with the file's report and stream overrides.
func (c *Config) Streams() ([]catalog.Stream, error) {
	streams, err := catalog.Apply(catalog.All(), c.reports, c.streams)
	var ke *catalog.KeyError
	if errors.As(err, &ke) {
		return nil, &Error{Key: ke.Key, Problem: ke.Problem, Fix: ke.Fix}
	}
	return streams, err
}

// Tenant returns the tenant with the given id.
func (c *Config) Tenant(id string) (Tenant, error) {
	var ids []string
	for _, t := range c.Tenants {
		if t.ID == id {
			return t, nil
		}
		ids = append(ids, t.ID)
	}
	return Tenant{}, &Error{Key: "--tenant", Problem: fmt.Sprintf("no tenant %q", id), Fix: "use one of: " + strings.Join(ids, ", ")}
}

// ------------------------------------------------------------------ file

type file struct {
	DatabaseURL     string                  `yaml:"database_url"`
	HTTPAddr        string                  `yaml:"http_addr"`
	Schedules       map[string]string       `yaml:"schedules"`
	ShutdownTimeout string                  `yaml:"shutdown_timeout"`
	Sync            fileSync                `yaml:"sync"`
	Tenants         []fileTenant            `yaml:"tenants"`
	Reports         map[string]fileOverride `yaml:"reports"`
	Streams         map[string]fileOverride `yaml:"streams"`
	API             *fileAPI                `yaml:"api"`
}

type fileSync struct {
	WindowParallelism    *int   `yaml:"window_parallelism"`
	StreamParallelism    *int   `yaml:"stream_parallelism"`
	MessageParallelism   *int   `yaml:"message_parallelism"`
	DefaultHistoryDays   *int   `yaml:"default_history_days"`
	StoreMessageText     *bool  `yaml:"store_message_text"`
	WindowTimeout        string `yaml:"window_timeout"`
	ChunkBytes           *int   `yaml:"chunk_bytes"`
	ListRefresh          string `yaml:"list_refresh"`
	OpenHorizon          string `yaml:"open_horizon"`
	RecentDays           *int   `yaml:"recent_days"`
	StreamsInFlight      *int   `yaml:"streams_in_flight"`
	DetailWindowElements *int   `yaml:"detail_window_elements"`
	MessageHistoryDays   *int   `yaml:"message_history_days"`
}

type fileTenant struct {
	ID                string   `yaml:"id"`
	BaseURL           string   `yaml:"base_url"`
	Token             string   `yaml:"token"`
	TokenEnv          string   `yaml:"token_env"`
	Timezone          string   `yaml:"timezone"`
	StartDate         string   `yaml:"start_date"`
	RequestsPerSecond *float64 `yaml:"requests_per_second"`
	Burst             *int     `yaml:"burst"`
	MaxAttempts       *int     `yaml:"max_attempts"`
	RequestTimeout    string   `yaml:"request_timeout"`
	WebhookSecretEnv  string   `yaml:"webhook_secret_env"`
	API               *fileAPI `yaml:"api"`
}

type fileOverride struct {
	Path       *string `yaml:"path"`
	Method     *string `yaml:"method"`
	Body       *string `yaml:"body"`
	Metric     *string `yaml:"metric"`
	GroupBy    *string `yaml:"group_by"`
	WindowDays *int    `yaml:"window_days"`
	Lookback   *string `yaml:"lookback"`
	Enabled    *bool   `yaml:"enabled"`
	IDsPath    *string `yaml:"ids_path"`
	PageSize   *int    `yaml:"page_size"`
	Unit       *string `yaml:"unit"`
	// MaxElements and SplitDownTo: an unpaged detail answer's cap and the
	// shortest piece a window at the cap is split into (catalog.Stream).
	MaxElements *int    `yaml:"max_elements"`
	SplitDownTo *string `yaml:"split_down_to"`
	Kind        *string `yaml:"kind"`
	Report      *string `yaml:"report"`
}

func (f *file) resolve(env LookupEnv) (*Config, error) {
	c := &Config{
		DatabaseURL: Secret(f.DatabaseURL),
		HTTPAddr:    f.HTTPAddr,
		Sync: Sync{
			WindowParallelism:  deref(f.Sync.WindowParallelism, DefaultWindowParallelism),
			StreamParallelism:  deref(f.Sync.StreamParallelism, DefaultStreamParallelism),
			MessageParallelism: deref(f.Sync.MessageParallelism, DefaultMessageParallelism),
			DefaultHistoryDays: deref(f.Sync.DefaultHistoryDays, DefaultHistoryDays),
			StoreMessageText:   deref(f.Sync.StoreMessageText, false),
		},
	}
	if v, ok := env("DATABASE_URL"); ok && v != "" {
		c.DatabaseURL = Secret(v)
	}
	redact.AddDSN(c.DatabaseURL.Reveal()) // before any error below can quote it
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr
	}
	if err := CheckListenAddr(c.HTTPAddr); err != nil {
		return nil, &Error{Key: "http_addr", Problem: err.Error(), Fix: "write host:port, e.g. " + DefaultHTTPAddr + " or :9464"}
	}
	c.ShutdownTimeout = DefaultShutdownTimeout
	if f.ShutdownTimeout != "" {
		d, err := ParseDuration(f.ShutdownTimeout)
		if err != nil || d <= 0 {
			return nil, &Error{Key: "shutdown_timeout", Problem: fmt.Sprintf("%q is not a positive duration", f.ShutdownTimeout), Fix: "write e.g. 30s or 2m"}
		}
		c.ShutdownTimeout = d
	}
	var err error
	if c.Schedules, err = schedules(f.Schedules); err != nil {
		return nil, err
	}
	for key, v := range map[string]int{
		"sync.window_parallelism": c.Sync.WindowParallelism, "sync.stream_parallelism": c.Sync.StreamParallelism,
		"sync.message_parallelism": c.Sync.MessageParallelism,
	} {
		if v < 1 || v > 64 {
			return nil, &Error{Key: key, Problem: fmt.Sprintf("%d is out of range", v), Fix: "use a number from 1 to 64"}
		}
	}
	c.Sync.ChunkBytes = deref(f.Sync.ChunkBytes, DefaultChunkBytes)
	// A chunk's raw row is one json value, kept well under 256 MB with the page that
	// closes it: 64 MiB at most.
	if c.Sync.ChunkBytes < 64<<10 || c.Sync.ChunkBytes > 64<<20 {
		return nil, &Error{Key: "sync.chunk_bytes", Problem: fmt.Sprintf("%d is out of range", c.Sync.ChunkBytes), Fix: "use a number of bytes from 65536 (64 KiB) to 67108864 (64 MiB), such as 4194304"}
	}
	c.Sync.WindowTimeout = DefaultWindowTimeout
	if f.Sync.WindowTimeout != "" {
		d, err := ParseDuration(f.Sync.WindowTimeout)
		if err != nil || d < time.Second {
			return nil, &Error{Key: "sync.window_timeout", Problem: fmt.Sprintf("%q is not a duration of a second or more", f.Sync.WindowTimeout), Fix: "write e.g. 30m"}
		}
		c.Sync.WindowTimeout = d
	}
	c.Sync.ListRefresh = DefaultListRefresh
	if f.Sync.ListRefresh != "" {
		d, err := ParseDuration(f.Sync.ListRefresh)
		if err != nil || d < 0 {
			return nil, &Error{Key: "sync.list_refresh", Problem: fmt.Sprintf("%q is not a duration of zero or more", f.Sync.ListRefresh), Fix: "write e.g. 1h, or 0 to read the lists at every sync"}
		}
		c.Sync.ListRefresh = d
	}
	c.Sync.OpenHorizon = DefaultOpenHorizon
	if f.Sync.OpenHorizon != "" {
		d, err := ParseDuration(f.Sync.OpenHorizon)
		if err != nil || d < 0 {
			return nil, &Error{Key: "sync.open_horizon", Problem: fmt.Sprintf("%q is not a duration of zero or more", f.Sync.OpenHorizon),
				Fix: "write e.g. 30d: how far back a sync re-reads the days that still hold open conversations (0: only the lookback)"}
		}
		c.Sync.OpenHorizon = d
	}
	c.Sync.RecentDays, c.Sync.StreamsInFlight = deref(f.Sync.RecentDays, 0), deref(f.Sync.StreamsInFlight, 0)
	if f.Sync.RecentDays != nil && (c.Sync.RecentDays < 1 || c.Sync.RecentDays > 366) {
		return nil, &Error{Key: "sync.recent_days", Problem: fmt.Sprintf("%d is out of range", c.Sync.RecentDays),
			Fix: "use a number of days from 1 to 366: a first sync or backfill loads these last days of every stream before older history (default 7)"}
	}
	if f.Sync.StreamsInFlight != nil && (c.Sync.StreamsInFlight < 1 || c.Sync.StreamsInFlight > 4096) {
		return nil, &Error{Key: "sync.streams_in_flight", Problem: fmt.Sprintf("%d is out of range", c.Sync.StreamsInFlight),
			Fix: "use a number from 1 to 4096: the streams one process runs at once over all its tenants (default 64)"}
	}
	c.Sync.DetailWindowElements, c.Sync.MessageHistoryDays = deref(f.Sync.DetailWindowElements, 0), deref(f.Sync.MessageHistoryDays, 0)
	if f.Sync.DetailWindowElements != nil && (c.Sync.DetailWindowElements < 1 || c.Sync.DetailWindowElements > 1000000) {
		return nil, &Error{Key: "sync.detail_window_elements", Problem: fmt.Sprintf("%d is out of range", c.Sync.DetailWindowElements),
			Fix: "use a number from 1 to 1000000: a first sync or backfill asks as many days of a detail stream a request as hold about this many elements by its report's counts (default 5000)"}
	}
	if f.Sync.MessageHistoryDays != nil && (c.Sync.MessageHistoryDays < 0 || c.Sync.MessageHistoryDays > 3660) {
		return nil, &Error{Key: "sync.message_history_days", Problem: fmt.Sprintf("%d is out of range", c.Sync.MessageHistoryDays),
			Fix: "use a number of days from 0 to 3660: a first sync fetches the messages (a request per conversation) of at most these last days; 0: of every day it loads"}
	}
	if c.Sync.DefaultHistoryDays < 1 {
		return nil, &Error{Key: "sync.default_history_days", Problem: "must be at least 1", Fix: "set the number of days the first sync loads"}
	}

	if c.dialect, err = f.API.apply(catalog.Contract(), "api."); err != nil {
		return nil, err
	}
	if len(f.Tenants) == 0 {
		if t, ok, err := envTenant(env); err != nil {
			return nil, err
		} else if ok {
			t.Dialect = c.dialect
			c.Tenants = append(c.Tenants, t)
			c.envOnly = true
		}
	}
	for i, ft := range f.Tenants {
		key := fmt.Sprintf("tenants[%d]", i)
		t, err := ft.resolve(key, env)
		if err != nil {
			return nil, err
		}
		if t.Dialect, err = ft.API.apply(c.dialect, key+".api."); err != nil {
			return nil, err
		}
		c.Tenants = append(c.Tenants, t)
	}
	if err := distinctTenants(c.Tenants, f.Tenants); err != nil {
		return nil, err
	}

	if c.reports, err = overrides("reports", f.Reports); err != nil {
		return nil, err
	}
	if c.streams, err = overrides("streams", f.Streams); err != nil {
		return nil, err
	}
	if _, err := c.Streams(); err != nil {
		return nil, err
	}
	c.registerSecrets()
	return c, nil
}

// distinctTenants refuses two tenants that an input could not tell apart:
// the same id (their rows would merge), the same token (one tenant's API
// answers loaded under the other's id) or the same webhook secret (the
// secret is what names a webhook's tenant, so its conversations would land
// under whichever tenant came first). The error names both tenants and the
// key, never the secret.
func distinctTenants(tenants []Tenant, file []fileTenant) error {
	tokenKey := func(i int) string {
		if i < len(file) && file[i].TokenEnv != "" {
			return "token_env"
		}
		return "token"
	}
	checks := []struct {
		key   func(i int) string
		value func(t Tenant) string
		what  string
		fix   string
	}{
		{func(int) string { return "id" }, func(t Tenant) string { return t.ID }, "the same id",
			"give every tenant its own id"},
		{tokenKey, func(t Tenant) string { return t.Token.Reveal() }, "the same API token",
			"give each tenant its own token: one token reads one Engage account, so one of the two is wrong"},
		{func(int) string { return "webhook_secret_env" }, func(t Tenant) string { return t.WebhookSecret.Reveal() }, "the same webhook secret",
			"give each tenant's webhook its own secret (the secret says which tenant a delivery belongs to)"},
	}
	for _, c := range checks {
		first := map[string]int{}
		for j, t := range tenants {
			v := c.value(t)
			if v == "" {
				continue
			}
			i, dup := first[v]
			if !dup {
				first[v] = j
				continue
			}
			return &Error{Key: fmt.Sprintf("tenants[%d].%s", j, c.key(j)),
				Problem: fmt.Sprintf("tenants[%d] (%s) and tenants[%d] (%s) have %s", i, tenants[i].ID, j, t.ID, c.what),
				Fix:     c.fix}
		}
	}
	return nil
}

// registerSecrets hands every secret to redact, so no error message or log
// line prints one, whatever path it took.
func (c *Config) registerSecrets() {
	redact.AddDSN(c.DatabaseURL.Reveal())
	for _, t := range c.Tenants {
		redact.Add(t.Token.Reveal(), t.WebhookSecret.Reveal())
	}
}

var tenantID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

func (ft fileTenant) resolve(key string, env LookupEnv) (Tenant, error) {
	t := Tenant{
		ID:                ft.ID,
		BaseURL:           ft.BaseURL,
		Token:             Secret(ft.Token),
		Timezone:          ft.Timezone,
		RequestsPerSecond: deref(ft.RequestsPerSecond, DefaultRequestsPerSecond),
		Burst:             deref(ft.Burst, 0),
		MaxAttempts:       deref(ft.MaxAttempts, engage.DefaultRetryPolicy.MaxAttempts),
		RequestTimeout:    engage.DefaultTimeout,
	}
	if ft.RequestTimeout != "" {
		d, err := ParseDuration(ft.RequestTimeout)
		if err != nil {
			return t, &Error{Key: key + ".request_timeout", Problem: err.Error(), Fix: "write e.g. 2m or 90s"}
		}
		t.RequestTimeout = d
	}
	if !tenantID.MatchString(t.ID) {
		return t, &Error{Key: key + ".id", Problem: fmt.Sprintf("%q is not a valid tenant id", t.ID), Fix: "use letters, digits, '.', '_' or '-'"}
	}
	if ft.TokenEnv != "" {
		if ft.Token != "" {
			return t, &Error{Key: key + ".token_env", Problem: "set together with token", Fix: "keep only one of token and token_env"}
		}
		v, ok := env(ft.TokenEnv)
		if !ok || v == "" {
			return t, &Error{Key: key + ".token_env", Problem: fmt.Sprintf("environment variable %s is not set", ft.TokenEnv), Fix: "export it with the tenant's API token"}
		}
		t.Token = Secret(v)
	}
	if t.Token == "" {
		return t, &Error{Key: key + ".token", Problem: "missing", Fix: "set token_env to the name of an environment variable holding the API token"}
	}
	if ft.WebhookSecretEnv != "" {
		v, ok := env(ft.WebhookSecretEnv)
		if !ok || v == "" {
			return t, &Error{Key: key + ".webhook_secret_env", Problem: fmt.Sprintf("environment variable %s is not set", ft.WebhookSecretEnv), Fix: "export it with the secret the Engage webhook sends"}
		}
		t.WebhookSecret = Secret(v)
	}
	return t, t.finish(key+".", ft.StartDate)
}

// envTenant is the single tenant configured by environment variables alone.
func envTenant(env LookupEnv) (Tenant, bool, error) {
	token, ok := env("ENGAGE_API_TOKEN")
	if !ok || token == "" {
		return Tenant{}, false, nil
	}
	get := func(k, def string) string {
		if v, ok := env(k); ok && v != "" {
			return v
		}
		return def
	}
	t := Tenant{
		ID:                get("ENGAGE_TENANT_ID", DefaultTenantID),
		BaseURL:           get("ENGAGE_BASE_URL", ""),
		Token:             Secret(token),
		Timezone:          get("ENGAGE_TIMEZONE", ""),
		WebhookSecret:     Secret(get("ENGAGE_WEBHOOK_SECRET", "")),
		RequestsPerSecond: DefaultRequestsPerSecond,
		MaxAttempts:       engage.DefaultRetryPolicy.MaxAttempts,
		RequestTimeout:    engage.DefaultTimeout,
	}
	if v := get("ENGAGE_REQUEST_TIMEOUT", ""); v != "" {
		d, err := ParseDuration(v)
		if err != nil {
			return t, false, &Error{Key: "ENGAGE_REQUEST_TIMEOUT", Problem: err.Error(), Fix: "write e.g. 2m or 90s"}
		}
		t.RequestTimeout = d
	}
	if v := get("ENGAGE_REQUESTS_PER_SECOND", ""); v != "" {
		rps, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return t, false, &Error{Key: "ENGAGE_REQUESTS_PER_SECOND", Problem: fmt.Sprintf("%q is not a number", v), Fix: "use e.g. 5"}
		}
		t.RequestsPerSecond = rps
	}
	if !tenantID.MatchString(t.ID) {
		return t, false, &Error{Key: "ENGAGE_TENANT_ID", Problem: fmt.Sprintf("%q is not a valid tenant id", t.ID), Fix: "use letters, digits, '.', '_' or '-'"}
	}
	return t, true, t.finish("ENGAGE_", get("ENGAGE_START_DATE", ""))
}

// finish fills defaults and validates what file and environment tenants share;
// prefix turns a field name into the key the user wrote ("tenants[0]." or "ENGAGE_").
func (t *Tenant) finish(prefix, startDate string) error {
	key := func(field string) string {
		if prefix == "ENGAGE_" {
			return "ENGAGE_" + strings.ToUpper(field)
		}
		return prefix + field
	}
	if t.BaseURL == "" {
		t.BaseURL = engage.DefaultBaseURL
	}
	if _, err := engage.ParseBaseURL(t.BaseURL); err != nil {
		return &Error{Key: key("base_url"), Problem: err.Error(), Fix: "e.g. " + engage.DefaultBaseURL}
	}
	if t.Timezone == "" {
		t.Timezone = DefaultTimezone
	}
	loc, err := time.LoadLocation(t.Timezone)
	if err != nil || t.Timezone == "Local" {
		return &Error{Key: key("timezone"), Problem: fmt.Sprintf("unknown time zone %q", t.Timezone), Fix: "use an IANA name such as Europe/Vienna or America/New_York"}
	}
	t.Location = loc
	if startDate != "" {
		d, err := civil.Parse(startDate)
		if err != nil {
			return &Error{Key: key("start_date"), Problem: fmt.Sprintf("%q is not a date", startDate), Fix: "write it as YYYY-MM-DD"}
		}
		t.StartDate = d
	}
	// 0 turns pacing off (a local simulator); NaN fails both comparisons.
	if !(t.RequestsPerSecond >= 0 && t.RequestsPerSecond <= maxRequestsPerSecondLimit) {
		return &Error{Key: key("requests_per_second"), Problem: fmt.Sprintf("%v is out of range", t.RequestsPerSecond),
			Fix: fmt.Sprintf("use a positive number up to %d such as 5, or 0 for no pacing (only against a local simulator)", maxRequestsPerSecondLimit)}
	}
	if t.Burst <= 0 {
		t.Burst = max(1, int(t.RequestsPerSecond))
	}
	if t.MaxAttempts < 1 || t.MaxAttempts > 20 {
		return &Error{Key: key("max_attempts"), Problem: fmt.Sprintf("%d is out of range", t.MaxAttempts), Fix: "use a number from 1 to 20"}
	}
	if t.RequestTimeout < time.Second || t.RequestTimeout > time.Hour {
		return &Error{Key: key("request_timeout"), Problem: fmt.Sprintf("%v is out of range", t.RequestTimeout), Fix: "use a duration from 1s to 1h, such as 2m"}
	}
	return nil
}

// Unpaced reports whether the tenant's client sends requests as fast as the
// API answers (requests_per_second 0): meant for a local simulator, such as a
// benchmark's, never for the real Engage API.
func (t Tenant) Unpaced() bool { return t.RequestsPerSecond == 0 }

// UnpacedRemote reports whether the tenant is unpaced against a base URL that
// is not on this machine (not localhost or a loopback address), which the
// commands warn about: the real API answers 429 and may block the key.
func (t Tenant) UnpacedRemote() bool {
	if !t.Unpaced() {
		return false
	}
	u, err := engage.ParseBaseURL(t.BaseURL)
	if err != nil {
		return true
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

func overrides(section string, in map[string]fileOverride) (map[string]catalog.Override, error) {
	out := make(map[string]catalog.Override, len(in))
	for name, fo := range in {
		o := catalog.Override{
			Path: fo.Path, Method: fo.Method, Body: fo.Body, Metric: fo.Metric,
			GroupBy: fo.GroupBy, WindowDays: fo.WindowDays, Enabled: fo.Enabled,
			IDsPath: fo.IDsPath, PageSize: fo.PageSize, Report: fo.Report, MaxElements: fo.MaxElements,
		}
		if fo.SplitDownTo != nil {
			d, err := ParseDuration(*fo.SplitDownTo)
			if err != nil || d < time.Minute {
				return nil, &Error{Key: section + "." + name + ".split_down_to", Problem: fmt.Sprintf("%q is not a duration of a minute or more", *fo.SplitDownTo),
					Fix: "write e.g. 15m: the shortest piece a window whose answer is at the cap is split into"}
			}
			o.SplitDownTo = &d
		}
		if fo.Unit != nil {
			u := catalog.Unit(*fo.Unit)
			o.Unit = &u
		}
		if fo.Kind != nil {
			k := catalog.Kind(*fo.Kind)
			o.Kind = &k
		}
		if fo.Lookback != nil {
			d, err := ParseDuration(*fo.Lookback)
			if err != nil {
				return nil, &Error{Key: section + "." + name + ".lookback", Problem: err.Error(), Fix: "write e.g. 2d, 36h or 90m"}
			}
			o.Lookback = &d
		}
		out[name] = o
	}
	return out, nil
}

// ParseDuration reads a Go duration, or whole days as "3d".
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	return d, nil
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
