package daemon_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/daemon"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/testdb"
	"github.com/engage-etl/engage-etl/internal/testtool"
)

// pageStreams are the streams of the status page test: a few of each
// group, so the page (and its screenshot in docs/) stays readable.
var pageStreams = []string{"users", "teams", "conversations", "visits", "agent_times_online",
	"chat_done", "activity_livechat", "realtime"}

// brokenVisits makes the visits stream ask for a report the API does not
// have: a 404, which is not retried, so the stream fails at once.
const brokenVisits = "/report/visit/tabel"

// startStatusDaemon runs a daemon over pageStreams, visits broken, and
// waits until every stream of every tenant has finished a run.
func startStatusDaemon(t *testing.T) (string, *load.Store) {
	t.Helper()
	w := newWorld(t, 0)
	store := openStore(t, testdb.Migrated(t))
	d := newDaemon(t, w, store, "status-page", "@every 1h")
	d.Streams = nil
	for _, name := range pageStreams {
		s := stream(t, name)
		if name == "visits" {
			s.Path = brokenVisits
		}
		d.Streams = append(d.Streams, s)
	}
	addr, stop := start(t, d)
	t.Cleanup(func() { stop() })
	want := len(pageStreams) * len(d.Tenants)
	deadline := time.Now().Add(60 * time.Second)
	for {
		statuses, err := store.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		finished := 0
		for _, s := range statuses {
			if s.LastStatus == "ok" || s.LastStatus == "failed" {
				finished++
			}
		}
		if finished == want {
			return addr, store
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s, %d of %d tenant streams finished a run", finished, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// chromium runs headless Chromium, as root too, with no network beyond the page.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	bin := testtool.Need(t, "chromium", "apt-get install chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

var (
	rowRE = regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`)
	tagRE = regexp.MustCompile(`<[^>]+>`)
	wsRE  = regexp.MustCompile(`\s+`)
)

// visibleText is what a person reads in a piece of the page: tags dropped,
// entities decoded as the browser shows them, spaces collapsed.
func visibleText(html string) string {
	s := tagRE.ReplaceAllString(html, " ")
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#34;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
	return strings.TrimSpace(wsRE.ReplaceAllString(s, " "))
}

// section returns the page between the heading title and the next h2.
func section(t *testing.T, dom, title string) string {
	t.Helper()
	i := strings.Index(dom, ">"+title+"</h2>")
	if i < 0 {
		t.Fatalf("the page has no %q section", title)
	}
	rest := dom[i+len(title)+6:]
	if j := strings.Index(rest, "<h2"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func rowsOf(html string) []string {
	var out []string
	for _, m := range rowRE.FindAllStringSubmatch(html, -1) {
		out = append(out, visibleText(m[1]))
	}
	return out
}

func TestStatusPageInChromiumShowsTheFailingStream(t *testing.T) {
	addr, _ := startStatusDaemon(t)
	dom := string(chromium(t, "--dump-dom", addr+"/"))

	if !strings.Contains(dom, "<title>engage-etl status</title>") || !strings.Contains(dom, `http-equiv="refresh"`) {
		t.Fatalf("not the status page, or it does not refresh:\n%.500s", dom)
	}
	header := visibleText(dom[:strings.Index(dom, "</p>")])
	if !strings.Contains(header, "2 tenants, 16 streams") || !strings.Contains(header, "2 failing") {
		t.Errorf("summary line %q: want 2 tenants, 16 streams, 2 failing", header)
	}

	attention := rowsOf(section(t, dom, "Needs attention"))
	if len(attention) != 3 { // the header and the visits stream of each tenant
		t.Errorf("needs attention: %d rows, want the header and 2 failing streams:\n%s", len(attention), strings.Join(attention, "\n"))
	}
	for _, tenant := range []string{"acme", "globex"} {
		found := false
		for _, r := range attention[1:] {
			if strings.HasPrefix(r, tenant+" visits details") && strings.Contains(r, "failed") && strings.Contains(r, "404") &&
				strings.Contains(r, brokenVisits) && strings.Contains(r, "never loaded") {
				found = true
			}
		}
		if !found {
			t.Errorf("needs attention does not show %s's visits failing with the 404:\n%s", tenant, strings.Join(attention, "\n"))
		}
	}

	streams := rowsOf(section(t, dom, "Streams"))
	if len(streams) != 1+16 {
		t.Fatalf("streams table: %d rows, want a header and 16:\n%s", len(streams), strings.Join(streams, "\n"))
	}
	ok := 0
	for _, r := range streams[1:] {
		switch {
		case strings.Contains(r, " visits "):
			continue
		case strings.Contains(r, " sync ok ") && regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \S+ \d{4}-`).MatchString(r):
			ok++ // a cursor, its lag and the last run
		default:
			t.Errorf("stream row %q: want a cursor, a lag, a last run and ok", r)
		}
	}
	if ok != 14 {
		t.Errorf("%d streams shown ok, want 14", ok)
	}

	runs := rowsOf(section(t, dom, "Recent runs"))
	failedRun := false
	for _, r := range runs[1:] {
		failedRun = failedRun || strings.Contains(r, "sync status-page") && strings.Contains(r, "failed")
	}
	if len(runs) < 2 || !failedRun {
		t.Errorf("recent runs do not show the failed run:\n%s", strings.Join(runs, "\n"))
	}
	if strings.Contains(dom, "sim-token") || strings.Contains(dom, "secret-acme") {
		t.Error("the page shows a token or a webhook secret")
	}

	// What a person sees: the failing rows are painted red (#fde2e1).
	shot := filepath.Join(t.TempDir(), "status.png")
	chromium(t, "--screenshot="+shot, "--window-size=1400,1000", "--hide-scrollbars", addr+"/")
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if sz := img.Bounds().Size(); sz.X != 1400 || sz.Y != 1000 {
		t.Errorf("screenshot is %v, want 1400x1000", sz)
	}
	red := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0xfd && g>>8 == 0xe2 && b>>8 == 0xe1 {
				red++
			}
		}
	}
	if red < 1000 {
		t.Errorf("the screenshot has %d pixels of the failing rows' red: the failure is not visible", red)
	}
	// UPDATE_DOCS=1 go test -run StatusPage ./internal/daemon/ refreshes the README's picture.
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "status-page.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStatusPageEscapesWhatItShows: an error message is data, not markup.
func TestStatusPageEscapesWhatItShows(t *testing.T) {
	w := newWorld(t, 0)
	store := openStore(t, testdb.Migrated(t))
	d := newDaemon(t, w, store, "escape", "@every 1h")
	d.RunAtStart = false
	ctx := context.Background()
	var runID int64
	if err := store.Pool().QueryRow(ctx, `INSERT INTO etl.run (mode, status, host, pid) VALUES ('sync', 'failed', 'h', 1) RETURNING run_id`).Scan(&runID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Pool().Exec(ctx, `INSERT INTO etl.run_stream (run_id, tenant_id, stream, status, error) VALUES ($1, 'acme', 'users', 'failed', $2)`,
		runID, `<script>alert("x")</script> & more`); err != nil {
		t.Fatal(err)
	}
	addr, stop := start(t, d)
	defer stop()
	resp, err := http.Get(addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	page := string(body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more") {
		t.Errorf("the error is not escaped:\n%s", page)
	}
	if r, _ := http.Get(addr + "/nothing-here"); r == nil || r.StatusCode != 404 {
		t.Errorf("GET /nothing-here: %v, want 404 (only / is the page)", r)
	}
}

// TestStatusPageShowsReconciliation: a pair with a day that disagrees after
// the lookback is counted in the header and listed with its latest day off
// and both figures.
func TestStatusPageShowsReconciliation(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, testdb.Migrated(t))
	if _, err := store.Pool().Exec(ctx, `INSERT INTO etl.reconciliation (tenant_id, pair, day, detail_stream, report_stream, detail_value, report_value, groups, groups_off, status)
VALUES ('acme', 'conversations', '2026-11-01', 'conversations', 'chat_conversations', 100, 263, 1, 1, 'mismatch'),
       ('acme', 'conversations', '2026-11-02', 'conversations', 'chat_conversations', 288, 288, 1, 0, 'ok'),
       ('acme', 'visits', '2026-11-02', 'visits', 'visit_visits', 40, 40, 1, 0, 'ok')`); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&daemon.Daemon{Store: store, Metrics: daemon.NewMetrics(store)}).Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if header := visibleText(page[:strings.Index(page, "</p>")]); !strings.Contains(header, "1 not reconciled") {
		t.Errorf("header %q does not count the pair that is not reconciled", header)
	}
	rows := rowsOf(section(t, page, "Reconciliation"))
	want := []string{"acme conversations conversations chat_conversations 1 0 1 2026-11-01 (mismatch) 100 263", "acme visits visits visit_visits 1 0 0 -"}
	if len(rows) != 3 || rows[1] != want[0] || rows[2] != want[1] {
		t.Errorf("reconciliation rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}
