package engage_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engage"
)

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
