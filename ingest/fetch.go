package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// retryingFetcher keeps fetching through Kafka errors. kafka-go's consumer
// group reader hands FetchMessage an error when it failed to join the group
// a few times in a row (a broker restarting, the coordinator moving) and
// goes on trying by itself; the pipeline takes a fetch error as the end of
// the service, so without this a broker restart of a few seconds stopped
// authsift. The reader's own errors are transient until ctx ends.
type retryingFetcher struct {
	*kafka.Reader
	logger *slog.Logger
}

func (f retryingFetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		m, err := f.Reader.FetchMessage(ctx)
		if err == nil || ctx.Err() != nil {
			if err == nil && attempt > 1 {
				f.logger.Info("kafka fetch recovered", "attempts", attempt)
			}
			return m, err
		}
		if attempt == 1 || attempt%10 == 0 {
			f.logger.Warn("kafka fetch failed; retrying", "err", err, "attempt", attempt, "backoff", backoff)
		}
		if !sleep(ctx, backoff) {
			return kafka.Message{}, ctx.Err()
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}
