package engage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engage"
)

// listServer serves n elements {"id":"e<i>"} in pages, read with the query
// parameters page and size (first page first), capping the page size at cap
// and serving a default of def when size is absent; a request without its
// page parameter gets the first page. It counts requests.
func listServer(t *testing.T, n, def, cap int, pageParam, sizeParam string, first int) (string, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get(pageParam))
		if r.URL.Query().Get(pageParam) == "" {
			page = first
		}
		size := def
		if s, err := strconv.Atoi(r.URL.Query().Get(sizeParam)); err == nil {
			size = min(s, cap)
		}
		var items []string
		for i := (page - first) * size; i < min(n, (page-first+1)*size); i++ {
			items = append(items, fmt.Sprintf(`{"id":"e%d"}`, i))
		}
		fmt.Fprintf(w, `{"page":%d,"results":[%s]}`, page, strings.Join(items, ","))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &requests
}

func readAll(c *engage.Client, p engage.Paging) (ids []string, err error) {
	err = c.Pages(context.Background(), engage.Request{Method: "GET", Path: "/user"}, p, func(pg engage.Page) (bool, error) {
		for _, it := range pg.Items {
			var e struct{ ID string }
			json.Unmarshal(it, &e)
			ids = append(ids, e.ID)
		}
		return false, nil
	})
	return ids, err
}

var contractLists = engage.Paging{PageParam: "pageNumber", SizeParam: "pageSize", PageSize: 100, Items: "results", ID: "id", Config: "api.lists"}

func TestPagingFollowsAServerThatCapsThePageSize(t *testing.T) {
	for _, n := range []int{0, 24, 25, 26, 100, 150, 399} {
		url, requests := listServer(t, n, 20, 25, "pageNumber", "pageSize", 0)
		ids, err := readAll(newClient(t, url, "tok"), contractLists)
		if err != nil || len(ids) != n {
			t.Errorf("%d elements, cap 25: read %d, %v", n, len(ids), err)
		}
		if max := int64(n/25 + 2); requests.Load() > max {
			t.Errorf("%d elements: %d requests, want at most %d", n, requests.Load(), max)
		}
	}
}

func TestPagingFailsWhenTheServerIgnoresThePagingParameters(t *testing.T) {
	// The server pages with page/size and ignores pageNumber/pageSize: it
	// serves its default first page of 20 to every request.
	url, requests := listServer(t, 150, 20, 100, "page", "size", 0)
	ids, err := readAll(newClient(t, url, "tok"), contractLists)
	if err == nil || !strings.Contains(err.Error(), "api.lists.page_param") {
		t.Fatalf("read %d of 150 elements, err %v; want a failure naming api.lists.page_param", len(ids), err)
	}
	if requests.Load() != 2 {
		t.Errorf("%d requests before failing, want 2", requests.Load())
	}
	// Configured right, the same server is read whole.
	right := contractLists
	right.PageParam, right.SizeParam = "page", "size"
	if ids, err := readAll(newClient(t, url, "tok"), right); err != nil || len(ids) != 150 {
		t.Errorf("with page/size: read %d of 150, %v", len(ids), err)
	}
}

func TestPagingHonoursLastAndTotalPages(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		fmt.Fprintf(w, `{"content":[{"id":"a%d"},{"id":"b%d"}],"number":%d,"totalPages":3,"last":%t}`, page, page, page, page == 2)
	}))
	t.Cleanup(srv.Close)
	p := engage.Paging{PageParam: "page", SizeParam: "size", PageSize: 2, Items: "content", ID: "id", Config: "api.activity"}
	ids, err := readAll(newClient(t, srv.URL, "tok"), p)
	if err != nil || len(ids) != 6 || requests.Load() != 3 {
		t.Errorf("read %v in %d requests, %v; want 6 elements in 3", ids, requests.Load(), err)
	}
}

func TestPagingReadsItemsAtADottedPath(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("p") == "0" {
			fmt.Fprint(w, `{"data":{"events":[{"id":"x"}]}}`)
			return
		}
		fmt.Fprint(w, `{"data":{"events":[]}}`)
	}))
	t.Cleanup(srv.Close)
	p := engage.Paging{PageParam: "p", SizeParam: "n", PageSize: 10, Items: "data.events", ID: "id", Config: "api.activity"}
	if ids, err := readAll(newClient(t, srv.URL, "tok"), p); err != nil || len(ids) != 1 {
		t.Errorf("read %v, %v", ids, err)
	}
	p.Items = "events"
	if _, err := readAll(newClient(t, srv.URL, "tok"), p); err == nil || !strings.Contains(err.Error(), `no "events"`) {
		t.Errorf("items at a wrong path: %v, want an error naming it", err)
	}
}
