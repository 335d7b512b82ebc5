package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/authsift/authsift/ingest/store/clickhouse"
)

// triageOptions are the flags of the triage subcommands.
type triageOptions struct {
	ch       clickhouseOptions
	output   string
	since    time.Duration
	baseline time.Duration
	limit    int
	client   string
	class    string
}

// triageCommands are `authsift triage` and its subcommands.
type triageCommands struct {
	opts                           *triageOptions
	changes, client, class, recent *kingpin.CmdClause
}

// addTriageCommands adds `authsift triage changes|client|class|recent`.
func addTriageCommands(app *kingpin.Application) *triageCommands {
	o := &triageOptions{}
	triage := app.Command("triage", "Ask ClickHouse what is failing: what changed, one client, one class, the latest failures "+
		"(the SQL of the dashboards).")
	t := &triageCommands{
		opts: o,
		changes: triage.Command("changes", "Clients and classes whose failure rate rose most in the window against the baseline "+
			"before it, the biggest rise first, with the fix."),
		client: triage.Command("client", "One client's failure classes in the window (counts, first and last seen, fix) and its latest failures."),
		class:  triage.Command("class", "What one class means and how to fix it, and which clients fail with it in the window."),
		recent: triage.Command("recent", "The latest failures in the window."),
	}
	t.client.Arg("client_id", "Client id.").Required().StringVar(&o.client)
	t.class.Arg("class", "Class id (see `authsift rules list`).").Required().StringVar(&o.class)
	for _, cmd := range []*kingpin.CmdClause{t.changes, t.client, t.class, t.recent} {
		o.ch.flags(cmd, true)
		cmd.Flag("output", "Output: table (for humans) or json.").Short('o').Default("table").EnumVar(&o.output, "table", "json")
		cmd.Flag("since", "Window: the last this long.").Default(clickhouse.DefaultTriageSince.String()).DurationVar(&o.since)
		cmd.Flag("baseline", "Baseline: this long before the window (changes compares rates against it).").
			Default(clickhouse.DefaultTriageBaseline.String()).DurationVar(&o.baseline)
		limit := "10"
		if cmd == t.recent {
			limit = "20"
		}
		cmd.Flag("limit", "Most rows per table.").Short('n').Default(limit).IntVar(&o.limit)
	}
	return t
}

func runTriage(ctx context.Context, t *triageCommands, cmd string, stdout io.Writer) (int, error) {
	o := t.opts
	cfg := o.ch.config()
	if cfg == nil {
		return exitUsage, fmt.Errorf("%w: --clickhouse.addr is required", errUsage)
	}
	if err := cfg.Validate(); err != nil {
		return exitUsage, fmt.Errorf("%w: %v", errUsage, err)
	}
	w := clickhouse.TriageWindow{Since: o.since, Baseline: o.baseline, Limit: o.limit}
	if err := w.Validate(); err != nil {
		return exitUsage, fmt.Errorf("%w: %v", errUsage, err)
	}
	ch, err := clickhouse.Open(ctx, *cfg)
	if err != nil {
		return exitFailed, err
	}
	defer ch.Close()
	var rep *clickhouse.Report
	switch cmd {
	case t.changes.FullCommand():
		rep, err = ch.TriageChanges(ctx, w)
	case t.client.FullCommand():
		rep, err = ch.TriageClient(ctx, o.client, w)
	case t.class.FullCommand():
		rep, err = ch.TriageClass(ctx, o.class, w)
	case t.recent.FullCommand():
		rep, err = ch.TriageRecent(ctx, w)
	default:
		return exitUsage, fmt.Errorf("%w: unknown triage command %q", errUsage, cmd)
	}
	if err != nil {
		return exitFailed, err
	}
	if o.output == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		return exitIOError, err
	}
	return exitOK, nil
}
