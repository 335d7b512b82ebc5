package classify

import (
	"time"

	lru "github.com/hashicorp/golang-lru/v2/simplelru"
)

// TrackerConfig bounds the correlation state of a Tracker.
type TrackerConfig struct {
	// Entries is the most pending hints kept per key kind; the oldest is
	// evicted first.
	Entries int
	// Window is how long after its context line a hint may still decide an
	// event (by event time; events without a time always may).
	Window time.Duration
}

// DefaultTrackerConfig is sized for one busy partition.
func DefaultTrackerConfig() TrackerConfig {
	return TrackerConfig{Entries: 4096, Window: 30 * time.Second}
}

type hint struct {
	value string
	at    time.Time
}

// Tracker classifies an ordered stream of events, using what earlier
// context events said about later failures (Keycloak's OAuth2CodeParser
// warning before the CODE_TO_TOKEN_ERROR event). Its memory is bounded. A
// Tracker is not safe for concurrent use: keep one per partition.
type Tracker struct {
	engine    *Engine
	cfg       TrackerConfig
	bySession *lru.LRU[string, hint]
	byThread  *lru.LRU[string, hint]
	evicted   uint64
}

// NewTracker returns a Tracker over engine.
func NewTracker(engine *Engine, cfg TrackerConfig) *Tracker {
	if cfg.Entries <= 0 {
		cfg.Entries = DefaultTrackerConfig().Entries
	}
	t := &Tracker{engine: engine, cfg: cfg}
	onEvict := func(string, hint) { t.evicted++ }
	t.bySession, _ = lru.NewLRU[string, hint](cfg.Entries, onEvict)
	t.byThread, _ = lru.NewLRU[string, hint](cfg.Entries, onEvict)
	return t
}

// SetEngine swaps the engine (a catalog reload) and keeps the state.
func (t *Tracker) SetEngine(e *Engine) { t.engine = e }

// Len is the number of pending hints.
func (t *Tracker) Len() int { return t.bySession.Len() + t.byThread.Len() }

// Evicted counts hints dropped for room before any event used them.
func (t *Tracker) Evicted() uint64 { return t.evicted }

// Classify records what a context event says and classifies a failure with
// the pending hint for it, if any.
func (t *Tracker) Classify(ev *Event) Verdict {
	switch ev.Outcome {
	case Context:
		if ev.Hint != "" {
			h := hint{ev.Hint, ev.Time}
			if ev.SessionID != "" {
				t.bySession.Add(ev.SessionID, h)
			} else if ev.Thread != "" {
				t.byThread.Add(ev.Thread, h)
			}
		}
	case Failure:
		if ev.Context == "" && t.Len() > 0 {
			ev.Context = t.take(ev)
		}
	}
	return t.engine.Classify(ev)
}

func (t *Tracker) take(ev *Event) string {
	if ev.SessionID != "" {
		if h, ok := t.bySession.Peek(ev.SessionID); ok {
			t.bySession.Remove(ev.SessionID)
			if t.fresh(h, ev) {
				return h.value
			}
		}
	}
	if ev.Thread != "" {
		if h, ok := t.byThread.Peek(ev.Thread); ok {
			t.byThread.Remove(ev.Thread)
			if t.fresh(h, ev) {
				return h.value
			}
		}
	}
	return ""
}

func (t *Tracker) fresh(h hint, ev *Event) bool {
	if t.cfg.Window <= 0 || h.at.IsZero() || ev.Time.IsZero() {
		return true
	}
	d := ev.Time.Sub(h.at)
	return d >= -time.Second && d <= t.cfg.Window
}
