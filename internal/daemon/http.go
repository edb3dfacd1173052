package daemon

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// WebhookSecretHeader carries the shared secret of a webhook; Engage can
// also put it in the URL as ?secret= (the URL is configured in Engage).
const WebhookSecretHeader = "X-Engage-Webhook-Secret"

// Handler serves /healthz, /readyz, /metrics and /webhooks/engage.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", d.ready)
	mux.HandleFunc("GET /{$}", d.statusPage)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /webhooks/engage", d.webhook)
	return mux
}

// ready answers 200 when the warehouse is reachable and fully migrated.
func (d *Daemon) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := d.Store.Pool().Ping(ctx); err != nil {
		http.Error(w, "database unreachable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := d.Store.CheckCurrent(ctx); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// webhook applies an Engage webhook (CONTRACT.md §7) to the warehouse at
// once. The secret names the tenant; a wrong one is refused before anything
// is read or written.
func (d *Daemon) webhook(w http.ResponseWriter, r *http.Request) {
	received := time.Now()
	secret := r.Header.Get(WebhookSecretHeader)
	if secret == "" {
		secret = r.URL.Query().Get("secret")
	}
	tenant, ok := d.tenantFor(secret)
	if !ok {
		d.Metrics.webhooks.WithLabelValues("unauthorized").Inc()
		http.Error(w, "unknown webhook secret", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if d.runner == nil { // Run builds it; a handler served without Run loads nothing
		http.Error(w, "not running", http.StatusServiceUnavailable)
		return
	}
	applied, _, err := d.runner.ApplyWebhook(r.Context(), tenant, body, received, deliveryID(r))
	if err != nil {
		if pipeline.IsInvalidWebhook(err) {
			d.Metrics.webhooks.WithLabelValues("invalid").Inc()
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		d.Metrics.webhooks.WithLabelValues("failed").Inc()
		d.Log.Error("webhook not applied", "tenant", tenant.ID, "error", err)
		http.Error(w, "not applied", http.StatusInternalServerError)
		return
	}
	result := "applied"
	if !applied {
		result = "duplicate" // received before: kept and applied once
	}
	d.Metrics.webhooks.WithLabelValues(result).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "{\"status\":%q}\n", result)
}

// deliveryID is the sender's id of a webhook delivery, when it gave one.
func deliveryID(r *http.Request) string {
	for _, h := range []string{"X-Engage-Delivery-Id", "X-Webhook-Delivery-Id", "X-Request-Id"} {
		if v := r.Header.Get(h); v != "" && len(v) <= 200 {
			return v
		}
	}
	return ""
}

// tenantFor finds the tenant whose secret matches, comparing in constant time.
func (d *Daemon) tenantFor(secret string) (pipeline.Tenant, bool) {
	if secret == "" {
		return pipeline.Tenant{}, false
	}
	id := ""
	for s, tid := range d.Webhooks {
		if subtle.ConstantTimeCompare([]byte(s), []byte(secret)) == 1 {
			id = tid
		}
	}
	for _, t := range d.Tenants {
		if t.ID == id {
			return t, true
		}
	}
	return pipeline.Tenant{}, false
}
