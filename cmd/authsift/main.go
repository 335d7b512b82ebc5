// Command authsift classifies OAuth 2.0 / OpenID Connect authorization-server
// failures. main only parses flags, wires the packages and runs.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kingpin/v2"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/ingest"
	"github.com/authsift/authsift/ingest/gen"
	"github.com/authsift/authsift/rules"
)

// version is set by the linker (-X main.version=...).
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // a check or test found problems
	exitUsage   = 2 // bad flags or arguments
	exitIOError = 3 // an input or output could not be read or written
)

// errUsage marks errors that are the caller's: bad flags or arguments.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := kingpin.New("authsift", "Explains OAuth 2.0 / OpenID Connect authorization-server failures: "+
		"reads their logs, gives every failure one class from a documented catalog, with the fix.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	terminated := false
	app.Terminate(func(int) { terminated = true })
	app.Version(version)
	app.HelpFlag.Short('h')
	app.UsageTemplate(kingpin.CompactUsageTemplate)

	g := &globalOptions{}
	app.Flag("rules.file", "Extra catalog file: adds or overrides classes, rules and tests by id (repeatable).").
		PlaceHolder("FILE").StringsVar(&g.ruleFiles)

	cl := &classifyOptions{}
	classifyCmd := app.Command("classify", "Classify log lines from files, or stdin when no file is given.")
	classifyCmd.Flag("output", "Output: table (a summary for humans) or jsonl (one JSON object per event, in input order).").
		Short('o').Default("table").EnumVar(&cl.output, "table", "jsonl")
	classifyCmd.Flag("format", "Pin the log format instead of detecting it per line.").
		Default(ingest.FormatAuto).EnumVar(&cl.format, ingest.Formats()...)
	classifyCmd.Flag("redact.key-file", "File with the key for hashing secrets found in logs (default: a random key per run).").
		PlaceHolder("FILE").StringVar(&cl.keyFile)
	cl.corr.flags(classifyCmd)
	classifyCmd.Arg("file", "Log files to read ('-' for stdin).").StringsVar(&cl.files)

	rulesCmd := app.Command("rules", "Inspect and test the catalog.")
	checkCmd := rulesCmd.Command("check", "Validate the catalog (embedded default plus --rules.file).")
	testCmd := rulesCmd.Command("test", "Run the catalog's test cases through the real decoders and engine.")
	testVerbose := testCmd.Flag("verbose", "List every case, not only the failures.").Short('v').Bool()
	listCmd := rulesCmd.Command("list", "List the classes with family, owner and number of rules.")
	explainCmd := rulesCmd.Command("explain", "Explain one class: meaning, how to confirm it, how to fix it.")
	explainClass := explainCmd.Arg("class", "Class id (see `authsift rules list`).").Required().String()

	serve := &serveOptions{}
	serveCmd := app.Command("serve", "Run the service: Kafka -> classify -> ClickHouse, with /metrics, health and reload endpoints.")
	serve.flags(serveCmd)

	mig := &migrateOptions{}
	migrateCmd := app.Command("migrate", "Create or upgrade the ClickHouse schema (or print its DDL).")
	mig.ch.flags(migrateCmd, false)
	migrateCmd.Flag("print", "Print the DDL for 'modern' servers or a server version (e.g. 18.16.1) instead of applying it.").
		PlaceHolder("modern|VERSION").StringVar(&mig.print)

	demo := &demoOptions{}
	demoCmd := app.Command("demo", "Run everything on this machine: in-process Kafka, the traffic generator with an incident, "+
		"the service, and ClickHouse when installed (else metrics-only).")
	demo.flags(demoCmd)

	genOpts := &genOptions{stderr: stderr}
	genCmd := app.Command("gen", "Write realistic mixed-source auth-server log lines to stdout or Kafka, optionally with incident scenarios (demos, rehearsals, benchmarks).")
	genCmd.Flag("lines", "Number of lines to write (0: no limit); the default 1000 applies only without --duration and --kafka.topic.").
		Default("1000").IsSetByUser(&genOpts.linesSet).IntVar(&genOpts.lines)
	genCmd.Flag("bytes", "Write lines until this many bytes (e.g. 1GB); overrides --lines.").BytesVar(&genOpts.bytes)
	genCmd.Flag("seed", "Random seed: same seed, same lines (and same bytes on stdout without --rate).").Default("1").Int64Var(&genOpts.seed)
	genCmd.Flag("rate", "Lines per second (0: as fast as possible).").Default("0").Float64Var(&genOpts.rate)
	genCmd.Flag("duration", "Stop after this long (0: no limit).").Default("0").DurationVar(&genOpts.duration)
	genCmd.Flag("kafka.brokers", "Kafka bootstrap brokers host:port (repeatable or comma-separated).").
		Default("localhost:9092").StringsVar(&genOpts.kafkaBrokers)
	genCmd.Flag("kafka.topic", "Send the lines to this topic instead of stdout: one message per line, keyed so that related lines share a partition.").
		PlaceHolder("TOPIC").StringVar(&genOpts.kafkaTopic)
	genCmd.Flag("scenario", "Incident to layer on the normal traffic (repeatable): baseline, secret-expiry, redirect-deploy, refresh-replay, credential-stuffing, server-outage.").
		Default(gen.ScenarioBaseline).EnumsVar(&genOpts.scenarios, gen.Scenarios()...)
	genCmd.Flag("scenario.client", "Client the scenarios hit.").Default(gen.DefaultScenarioClient).StringVar(&genOpts.scenarioClient)
	genCmd.Flag("scenario.after", "Time into the run when the scenarios start: wall-clock time with --kafka.topic or --rate, else generated time (about 10ms per request).").
		Default("1m").DurationVar(&genOpts.scenarioAfter)
	genCmd.Flag("scenario.for", "How long the scenarios last (0: to the end).").Default("0").DurationVar(&genOpts.scenarioFor)

	triage := addTriageCommands(app)

	cmd, err := app.Parse(args)
	if terminated {
		return exitOK // --help or --version was answered
	}
	if err != nil {
		fmt.Fprintf(stderr, "authsift: %v (try --help)\n", err)
		return exitUsage
	}
	var code int
	switch cmd {
	case classifyCmd.FullCommand():
		code, err = runClassify(ctx, g, cl, stdin, stdout, stderr)
	case checkCmd.FullCommand():
		code, err = runRulesCheck(g, stdout)
	case testCmd.FullCommand():
		code, err = runRulesTest(g, *testVerbose, stdout)
	case listCmd.FullCommand():
		code, err = runRulesList(g, stdout)
	case explainCmd.FullCommand():
		code, err = runRulesExplain(g, *explainClass, stdout)
	case serveCmd.FullCommand():
		code, err = runServe(ctx, g, serve, stderr)
	case migrateCmd.FullCommand():
		code, err = runMigrate(ctx, g, mig, stdout)
	case triage.changes.FullCommand(), triage.client.FullCommand(), triage.class.FullCommand(), triage.recent.FullCommand():
		code, err = runTriage(ctx, triage, cmd, stdout)
	case demoCmd.FullCommand():
		code, err = runDemo(ctx, g, demo, stdout, stderr)
	case genCmd.FullCommand():
		code, err = runGen(ctx, genOpts, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "authsift %s: %v\n", cmd, err)
		if errors.Is(err, errUsage) {
			return exitUsage
		}
	}
	return code
}

type globalOptions struct {
	ruleFiles []string
}

// engine loads the catalog and indexes it.
func (g *globalOptions) engine() (*classify.Engine, error) {
	cat, err := rules.Load(g.ruleFiles...)
	if err != nil {
		return nil, fmt.Errorf("load catalog:\n%w", err)
	}
	return classify.New(cat), nil
}
