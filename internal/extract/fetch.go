package extract

import (
	"bytes"
	"context"
	"io"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// Request builds the API request of a stream for a window.
func Request(s catalog.Stream, w Window) (engage.Request, error) {
	body, err := RenderBody(s.Body, Vars{
		From: w.Start.UnixMilli(), To: w.End.UnixMilli(), Metric: s.Metric, GroupBy: s.GroupBy,
	})
	if err != nil {
		return engage.Request{}, err
	}
	return engage.Request{Method: s.Method, Path: s.Path, Body: body}, nil
}

// Report fetches a bucketed report window. raw is the body exactly as received.
func Report(ctx context.Context, c *engage.Client, s catalog.Stream, w Window) (resp engage.ReportResponse, raw []byte, err error) {
	req, err := Request(s, w)
	if err != nil {
		return resp, nil, err
	}
	err = c.Do(ctx, req, func(r io.Reader) error {
		var buf bytes.Buffer
		resp = engage.ReportResponse{}
		if err := engage.DecodeObject(io.TeeReader(r, &buf), &resp); err != nil {
			return err
		}
		raw = buf.Bytes()
		return nil
	})
	return resp, raw, err
}

// Array fetches a detail report window whose answer is a JSON array, handing
// each element to fn as it is decoded. fn runs again from the first element if
// the request is retried, so it must start over when reset is called.
func Array[T any](ctx context.Context, c *engage.Client, s catalog.Stream, w Window, reset func(), fn func(T) error) (raw []byte, err error) {
	req, err := Request(s, w)
	if err != nil {
		return nil, err
	}
	err = c.Do(ctx, req, func(r io.Reader) error {
		var buf bytes.Buffer
		reset()
		if err := engage.DecodeArray(io.TeeReader(r, &buf), fn); err != nil {
			return err
		}
		raw = buf.Bytes()
		return nil
	})
	return raw, err
}
