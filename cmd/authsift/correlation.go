package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/authsift/authsift/classify"
	"github.com/authsift/authsift/rules"
)

// correlationOptions bound the correlation state (per partition for serve,
// per input for classify).
type correlationOptions struct {
	lifetimes  []string
	codes      int
	codeWindow time.Duration
	tokens     int
	grace      time.Duration
}

func (c *correlationOptions) flags(cmd *kingpin.CmdClause) {
	d := classify.DefaultTrackerConfig()
	cmd.Flag("correlation.code-lifetime", "Authorization-code lifetime of a source, SOURCE=DURATION (repeatable; defaults: keycloak=1m, others 10m): "+
		"an ambiguous rejection of a code issued longer ago is code_expired.").PlaceHolder("SOURCE=DURATION").StringsVar(&c.lifetimes)
	cmd.Flag("correlation.codes", "Most authorization codes remembered per partition (issuance, redemption).").
		Default(fmt.Sprint(d.Codes)).IntVar(&c.codes)
	cmd.Flag("correlation.code-window", "How long a code is remembered; also how long a partition must be watched without a gap before a code never seen issued is code_unknown (at least the longest lifetime).").
		Default(d.CodeWindow.String()).DurationVar(&c.codeWindow)
	cmd.Flag("correlation.tokens", "Most refresh tokens remembered per partition (their last use).").
		Default(fmt.Sprint(d.Tokens)).IntVar(&c.tokens)
	cmd.Flag("correlation.refresh-grace", "A refresh token used again this soon from the same network is a race (refresh_token_concurrent), later or from elsewhere a replay (refresh_token_reused).").
		Default(d.RefreshGrace.String()).DurationVar(&c.grace)
}

// config validates the flags into the Tracker's limits.
func (c *correlationOptions) config() (classify.TrackerConfig, error) {
	cfg := classify.DefaultTrackerConfig()
	if c.codes <= 0 || c.tokens <= 0 || c.codeWindow <= 0 || c.grace <= 0 {
		return cfg, fmt.Errorf("%w: --correlation.* sizes and durations must be positive", errUsage)
	}
	cfg.Codes, cfg.CodeWindow, cfg.Tokens, cfg.RefreshGrace = c.codes, c.codeWindow, c.tokens, c.grace
	cfg.CodeLifetime = map[string]time.Duration{}
	for k, v := range classify.DefaultTrackerConfig().CodeLifetime {
		cfg.CodeLifetime[k] = v
	}
	for _, l := range c.lifetimes {
		source, dur, ok := strings.Cut(l, "=")
		d, err := time.ParseDuration(dur)
		switch {
		case !ok || err != nil || d <= 0:
			return cfg, fmt.Errorf("%w: --correlation.code-lifetime %q: want SOURCE=DURATION, e.g. keycloak=5m", errUsage, l)
		case !slices.Contains(rules.Sources(), source):
			return cfg, fmt.Errorf("%w: --correlation.code-lifetime %q: unknown source (known: %s)", errUsage, l, strings.Join(rules.Sources(), ", "))
		}
		cfg.CodeLifetime[source] = d
	}
	for s := range cfg.CodeLifetime {
		if cfg.Lifetime(s) > cfg.CodeWindow {
			return cfg, fmt.Errorf("%w: --correlation.code-window %s is shorter than the %s code lifetime %s", errUsage, cfg.CodeWindow, s, cfg.Lifetime(s))
		}
	}
	if classify.DefaultCodeLifetime > cfg.CodeWindow {
		return cfg, fmt.Errorf("%w: --correlation.code-window %s is shorter than the default code lifetime %s", errUsage, cfg.CodeWindow, classify.DefaultCodeLifetime)
	}
	return cfg, nil
}
