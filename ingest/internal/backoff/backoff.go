// Package backoff is the one retry delay of authsift's loops (joining the
// consumer group, fetching a partition, writing a batch): exponential from a
// floor to a ceiling, and a sleep that ends with the context.
package backoff

import (
	"context"
	"time"
)

// Backoff doubles its delay from Min up to Max; Reset returns it to Min.
type Backoff struct {
	Min, Max time.Duration
	cur      time.Duration
}

// New returns a backoff from min to max.
func New(min, max time.Duration) *Backoff { return &Backoff{Min: min, Max: max} }

// Delay is the delay the next Wait sleeps.
func (b *Backoff) Delay() time.Duration {
	if b.cur == 0 {
		b.cur = b.Min
	}
	return b.cur
}

// Wait sleeps the current delay (less when ctx ends first, then it says
// false) and doubles the delay for the next time, up to Max.
func (b *Backoff) Wait(ctx context.Context) bool {
	d := b.Delay()
	b.cur = min(2*d, b.Max)
	return Sleep(ctx, d)
}

// Reset returns the delay to Min, after a success.
func (b *Backoff) Reset() { b.cur = b.Min }

// Sleep waits for d, or less when ctx ends first (then it says false).
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
