package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alecthomas/units"

	"github.com/authsift/authsift/ingest/gen"
)

type genOptions struct {
	lines    int
	linesSet bool // --lines was given: it applies even with --duration or Kafka output
	bytes    units.Base2Bytes
	seed     int64
	rate     float64
	duration time.Duration

	kafkaBrokers []string
	kafkaTopic   string

	scenarios      []string
	scenarioClient string
	scenarioAfter  time.Duration
	scenarioFor    time.Duration

	stderr io.Writer // progress when writing to Kafka (default os.Stderr)
}

func (o *genOptions) validate() error {
	switch {
	case o.lines < 0 || o.bytes < 0:
		return fmt.Errorf("%w: --lines and --bytes must not be negative", errUsage)
	case o.rate < 0 || o.duration < 0:
		return fmt.Errorf("%w: --rate and --duration must not be negative", errUsage)
	case o.scenarioAfter < 0 || o.scenarioFor < 0:
		return fmt.Errorf("%w: --scenario.after and --scenario.for must not be negative", errUsage)
	case o.kafkaTopic != "" && len(splitList(o.kafkaBrokers)) == 0:
		return fmt.Errorf("%w: --kafka.topic needs --kafka.brokers", errUsage)
	}
	return nil
}

// run turns the flags into the generator run: --bytes overrides --lines;
// the --lines default applies only when nothing else ends the run.
func (o *genOptions) run() gen.Run {
	r := gen.Run{Bytes: int64(o.bytes), Rate: o.rate, Duration: o.duration}
	if o.bytes == 0 && (o.linesSet || o.duration == 0 && o.kafkaTopic == "") {
		r.Lines = int64(o.lines)
	}
	return r
}

func runGen(ctx context.Context, o *genOptions, stdout io.Writer) (int, error) {
	if err := o.validate(); err != nil {
		return exitUsage, err
	}
	cfg := gen.Config{Seed: o.seed, Scenarios: o.scenarios, Client: o.scenarioClient,
		After: o.scenarioAfter, For: o.scenarioFor}
	if o.kafkaTopic != "" || o.rate > 0 {
		cfg.Clock = time.Now // live traffic: lines carry the time they are sent
	}
	g, err := gen.NewWithConfig(cfg)
	if err != nil {
		return exitUsage, fmt.Errorf("%w: %v", errUsage, err)
	}
	run := o.run()
	if o.kafkaTopic == "" {
		if _, err := g.Generate(ctx, stdout, run); err != nil {
			return exitIOError, err
		}
		return exitOK, nil
	}
	run.Progress = o.stderr
	if run.Progress == nil {
		run.Progress = os.Stderr
	}
	w := gen.NewKafkaWriter(splitList(o.kafkaBrokers), o.kafkaTopic)
	_, err = g.Produce(ctx, w, run)
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close kafka writer: %w", cerr)
	}
	if err != nil {
		return exitIOError, err
	}
	return exitOK, nil
}
