package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/platformguide/ssocutover/internal/progress"
)

// Graph's JSON batching limit: at most 20 requests in one $batch.
const maxBatchRequests = 20

// maxAttempts is how often one request is sent before the inventory gives
// up on it (Temporal then retries the activity). Throttled requests wait for
// Retry-After between attempts, so ten attempts ride out a long burst.
const maxAttempts = 10

// batchRequest is one request of a $batch and what to do with its answer.
type batchRequest struct {
	// what names the request for errors: "list the members of group ...".
	what    string
	info    *abstractions.RequestInformation
	factory serialization.ParsableFactory
	// handle takes the parsed answer. It runs one answer at a time (under
	// the batcher's lock) and may queue follow-up requests.
	handle func(serialization.Parsable) error

	attempt   int
	notBefore time.Time
	lastError string
}

// batcher sends requests in $batch calls, 20 at a time, a bounded number of
// calls at once. It works in rounds: every request queued when a round
// starts goes out in that round, and what the answers queue (next pages,
// nested groups) goes out in the next, so every call but the last of a
// round is full. A request that is throttled or meets a server error on its
// own (Graph answers each request of a batch separately) is sent again in
// the next round, after its Retry-After: throttling is per app and tenant,
// so the whole inventory waits.
//
// Each call's answers are handled as soon as that call returns, not at the
// end of the round: a round can hold tens of thousands of requests (two per
// candidate group), and keeping every parsed page until the round ends held
// every member of every group in memory at once (about 1 GB of SDK models
// at 100,000 users).
type batcher struct {
	adapter     abstractions.RequestAdapter
	concurrency int
	// onDone is told how many requests were answered.
	onDone func(n int)

	mu    sync.Mutex // guards queue and serialises handle and onDone
	queue []*batchRequest
}

// add queues r. It is called before run and from handle, which holds mu.
func (b *batcher) add(r *batchRequest) { b.queue = append(b.queue, r) }

// outcome is what became of one request in a round.
type outcome struct {
	// answer is the request's answer, still JSON: it is parsed only when
	// handled, one at a time, so that a batch of 20 big pages is never
	// held parsed all at once.
	answer *batchItem
	// retryIn is set when the request must be sent again after that delay.
	retry   bool
	retryIn time.Duration
	reason  string
}

// run sends every queued request, and every request their answers queue,
// until none is left.
func (b *batcher) run(ctx context.Context) error {
	for len(b.queue) > 0 {
		round := b.queue
		b.queue = nil
		if err := sleepUntil(ctx, latestNotBefore(round)); err != nil {
			return err
		}
		calls := (len(round) + maxBatchRequests - 1) / maxBatchRequests
		err := progress.ForEach(ctx, b.concurrency, calls, func(ctx context.Context, c int) error {
			requests := round[c*maxBatchRequests : min(len(round), (c+1)*maxBatchRequests)]
			outcomes := make([]outcome, len(requests))
			if err := b.send(ctx, requests, outcomes); err != nil {
				return err
			}
			return b.settle(requests, outcomes)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// settle hands the answers of one call to their requests and queues for the
// next round the requests that must be sent again.
func (b *batcher) settle(requests []*batchRequest, outcomes []outcome) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	answered := 0
	for i, r := range requests {
		o := outcomes[i]
		if o.retry {
			r.attempt++
			r.lastError = o.reason
			if r.attempt >= maxAttempts {
				return fmt.Errorf("%s: Microsoft Graph still answered %s after %d attempts; the activity is retried", r.what, r.lastError, r.attempt)
			}
			r.notBefore = time.Now().Add(o.retryIn)
			b.queue = append(b.queue, r)
			continue
		}
		result, err := o.answer.parse(r.factory)
		if err != nil {
			return fmt.Errorf("%s: read the answer: %w", r.what, err)
		}
		if err := r.handle(result); err != nil {
			return err
		}
		answered++
	}
	if b.onDone != nil {
		b.onDone(answered)
	}
	return nil
}

// send makes one $batch call of requests and fills outcomes.
func (b *batcher) send(ctx context.Context, requests []*batchRequest, outcomes []outcome) error {
	batch := msgraphcore.NewBatchRequest(b.adapter)
	ids := make([]string, len(requests))
	for i, r := range requests {
		// Resolve the URL on the request itself first: the SDK resolves it
		// on a copy that shares the path parameters and, for a nextLink,
		// empties them, so a resend (after throttling) would lose the URL.
		if r.info.PathParameters["baseurl"] == "" {
			r.info.PathParameters["baseurl"] = b.adapter.GetBaseUrl()
		}
		if _, err := r.info.GetUri(); err != nil {
			return fmt.Errorf("%s: build the request URL: %w", r.what, err)
		}
		item, err := batch.AddBatchRequestStep(*r.info)
		if err != nil {
			return fmt.Errorf("%s: build the batch request: %w", r.what, err)
		}
		ids[i] = *item.GetId()
	}
	resp, err := sendBatch(ctx, b.adapter, batch)
	if err != nil {
		// The SDK's retry handler already waited out throttling of the
		// whole batch; what is left is sent again next round, unless it
		// cannot succeed.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if status := statusOf(err); status != 0 && !retryableStatus(status) {
			return callError("send a batch of Graph requests ("+requests[0].what+", ...)", err)
		}
		for i, r := range requests {
			outcomes[i] = outcome{retry: true, retryIn: backoff(r.attempt), reason: "an error to the whole batch (" + err.Error() + ")"}
		}
		return nil
	}

	for i, r := range requests {
		item := resp.item(ids[i])
		if item == nil || item.Status == 0 {
			outcomes[i] = outcome{retry: true, retryIn: backoff(r.attempt), reason: "no answer in the batch response"}
			continue
		}
		status := item.Status
		switch {
		case retryableStatus(status):
			wait, ok := retryAfter(item.Headers)
			if !ok {
				wait = backoff(r.attempt)
			}
			outcomes[i] = outcome{retry: true, retryIn: wait, reason: "HTTP " + strconv.Itoa(status)}
		case status >= 400:
			code, message := subResponseError(item)
			return callError(r.what, &graphStatusError{status: status, code: code, message: message})
		default:
			outcomes[i] = outcome{answer: item}
		}
	}
	return nil
}

// sendBatch sends batch as msgraph-sdk-go-core's BatchRequest.Send does,
// but with Graph's error mapping (Send maps none, so a refused batch, 401 or
// 403, would lose Graph's error code and message, which say what to fix),
// and reads the answer leaner: Send parses every answer's body into a tree
// of maps, and reading a model from it writes that tree back to JSON and
// parses it again. At 100,000 users that was most of the Entra inventory's
// memory. Here each body stays JSON until its request's model is parsed
// from it, by the SDK's own parse nodes (batchItem.parse).
func sendBatch(ctx context.Context, adapter abstractions.RequestAdapter, batch msgraphcore.BatchRequest) (*batchAnswer, error) {
	info := abstractions.NewRequestInformation()
	info.Method = abstractions.POST
	info.UrlTemplate = "{+baseurl}/$batch"
	info.Headers.TryAdd("Accept", "application/json")
	if err := info.SetContentFromParsable(ctx, adapter, "application/json", batch); err != nil {
		return nil, fmt.Errorf("encode the batch: %w", err)
	}
	body, err := adapter.SendPrimitive(ctx, info, "[]byte", abstractions.ErrorMappings{
		"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue,
	})
	if err != nil {
		return nil, err
	}
	raw, ok := body.([]byte)
	if !ok {
		return nil, fmt.Errorf("the batch call answered %T, not JSON", body)
	}
	var answer batchAnswer
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, fmt.Errorf("read the batch response: %w", err)
	}
	return &answer, nil
}

// batchAnswer is the answer to a $batch call: one answer per request, in
// any order, each with its own status, headers and body
// (https://learn.microsoft.com/en-us/graph/json-batching#response-format).
type batchAnswer struct {
	Responses []batchItem `json:"responses"`
}

// batchItem is the answer to one request of a $batch.
type batchItem struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// item is the answer to request id, or nil when the batch holds none.
func (a *batchAnswer) item(id string) *batchItem {
	for i := range a.Responses {
		if a.Responses[i].ID == id {
			return &a.Responses[i]
		}
	}
	return nil
}

// parse reads the item's body as the model factory makes.
func (it *batchItem) parse(factory serialization.ParsableFactory) (serialization.Parsable, error) {
	node, err := jsonserialization.NewJsonParseNode(it.Body)
	if err != nil {
		return nil, err
	}
	return node.GetObjectValue(factory)
}

// retryableStatus reports whether a request that got status may succeed
// when sent again: throttling and server errors.
func retryableStatus(status int) bool {
	return status == 429 || status >= 500
}

// retryAfter reads the Retry-After of a batch sub-response, in seconds as
// Graph writes it.
func retryAfter(headers map[string]string) (time.Duration, bool) {
	for k, v := range headers {
		if strings.EqualFold(k, "Retry-After") {
			if seconds, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && seconds >= 0 {
				return time.Duration(seconds) * time.Second, true
			}
		}
	}
	return 0, false
}

// backoff is the wait before attempt+1 of a request that failed without a
// Retry-After: 1s, 2s, 4s, ... at most 30s.
func backoff(attempt int) time.Duration {
	return min(time.Second<<min(attempt, 5), 30*time.Second)
}

func latestNotBefore(requests []*batchRequest) time.Time {
	var latest time.Time
	for _, r := range requests {
		if r.notBefore.After(latest) {
			latest = r.notBefore
		}
	}
	return latest
}

func sleepUntil(ctx context.Context, t time.Time) error {
	wait := time.Until(t)
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// subResponseError reads Graph's {"error": {"code", "message"}} from the
// body of a failed batch sub-response.
func subResponseError(item *batchItem) (code, message string) {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(item.Body, &body) // a body of another shape has neither
	return body.Error.Code, body.Error.Message
}

// graphStatusError is a failed request of a batch, shaped like the SDK's
// errors for requests sent alone.
type graphStatusError struct {
	status  int
	code    string
	message string
}

func (e *graphStatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.status, e.code, e.message)
}

func (e *graphStatusError) GetStatusCode() int { return e.status }

// statusOf returns the HTTP status of a Graph error: the SDK's
// *odataerrors.ODataError and *abstractions.ApiError, and graphStatusError,
// all have GetStatusCode. 0 means the error has no status (a network
// error, a cancelled context).
func statusOf(err error) int {
	var withStatus interface{ GetStatusCode() int }
	if errors.As(err, &withStatus) {
		return withStatus.GetStatusCode()
	}
	return 0
}
