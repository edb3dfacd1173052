package engage_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
)

func TestDecimalBounds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" when accepted
	}{
		{`"205"`, ""},
		{`-1.5e-3`, ""},
		{`"` + strings.Repeat("9", engage.MaxDecimalLen) + `"`, ""},
		{`"1e100"`, ""},
		{`"1E-100"`, ""},
		{`"` + strings.Repeat("9", engage.MaxDecimalLen+1) + `"`, "65 characters long, more than the 64 allowed"},
		{`"` + strings.Repeat("7", 5<<20) + `"`, "5242880 characters long, more than the 64 allowed"},
		{strings.Repeat("7", 5<<20), "5242880 characters long"},
		{`"1e101"`, "exponent beyond ±100"},
		{`"1e-101"`, "exponent beyond ±100"},
		{`"1e99999999999999999999999"`, "exponent beyond ±100"},
		{`"NaN"`, "not a decimal number"},
		{`"0x1p3"`, "not a decimal number"},
	} {
		start := time.Now()
		var d engage.Decimal
		err := json.Unmarshal([]byte(tc.in), &d)
		if took := time.Since(start); took > time.Second {
			t.Errorf("%.20s…: took %v", tc.in, took)
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%.20s…: %v, want accepted", tc.in, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%.20s…: err = %v, want one saying %q", tc.in, err, tc.want)
		case err != nil && len(err.Error()) > 200:
			t.Errorf("%.20s…: error of %d bytes quotes the value whole", tc.in, len(err.Error()))
		}
		var be *engage.BoundError
		if bound := strings.Contains(tc.want, "long") || strings.Contains(tc.want, "beyond"); bound != errors.As(err, &be) {
			t.Errorf("%.20s…: err = %#v, a bound error: %v", tc.in, err, bound)
		}
	}
}

func TestAReportValueNamesItsPath(t *testing.T) {
	var r engage.ReportResponse
	err := json.Unmarshal([]byte(`{"results":{"2020/10/30":{"a@x.com":"205","b@x.com":"`+strings.Repeat("1", 100)+`"}}}`), &r)
	if err == nil || !strings.Contains(err.Error(), `results["2020/10/30"]["b@x.com"]: decimal value "1111`) {
		t.Errorf("err = %v, want one naming results[\"2020/10/30\"][\"b@x.com\"]", err)
	}
	var rt engage.RealtimeResponse
	err = json.Unmarshal([]byte(`{"results":{"CHATS":"x"}}`), &rt)
	if err == nil || !strings.Contains(err.Error(), `results["CHATS"]: value "x" is not a decimal number`) {
		t.Errorf("err = %v, want one naming results[\"CHATS\"]", err)
	}
}
