package ingest

import (
	"fmt"
	"io"

	"github.com/authsift/authsift/classify"
)

// Stream decodes and classifies the lines of one ordered stream (a file, a
// partition) with its own correlation state.
type Stream struct {
	dec     *Decoder
	tracker *classify.Tracker
	rec     Record
	maxLine int
}

// NewStream returns a stream over engine that decodes format. Its
// correlation keys are hashed with key (the redaction key file's, so that
// the keys named in evidence are stable across runs); nil draws a random one.
func NewStream(engine *classify.Engine, format string, cfg classify.TrackerConfig, key []byte) (*Stream, error) {
	dec, err := NewDecoder(format)
	if err != nil {
		return nil, err
	}
	dec.keys = newKeyHasher(keyOrRandom(key))
	return &Stream{dec: dec, tracker: classify.NewTracker(engine, cfg), maxLine: DefaultMaxLine}, nil
}

// Tracker returns the stream's correlation state.
func (s *Stream) Tracker() *classify.Tracker { return s.tracker }

// Line classifies one line and calls emit once per event, or once with a nil
// Event for a line that is not an auth event. The record is reused.
func (s *Stream) Line(n int, line []byte, truncated bool, emit func(*Record)) {
	s.rec = Record{Line: n}
	if truncated {
		ev := classify.Event{Source: s.dec.guessSource(line), Outcome: classify.Malformed,
			Detail: fmt.Sprintf("line longer than %d bytes", s.maxLine)}
		s.rec.Event = &ev
		s.rec.Verdict = classify.Verdict{Outcome: classify.Malformed}
		emit(&s.rec)
		return
	}
	evs := s.dec.Decode(line)
	if len(evs) == 0 {
		s.rec.Verdict = classify.Verdict{Outcome: classify.Ignored}
		emit(&s.rec)
		return
	}
	for i := range evs {
		s.rec.Event = &evs[i]
		s.rec.Verdict = s.tracker.Classify(&evs[i])
		emit(&s.rec)
	}
}

// mustStream returns s; it panics on err, for a stream of FormatAuto,
// which cannot fail.
func mustStream(s *Stream, err error) *Stream {
	if err != nil {
		panic(err)
	}
	return s
}

// ClassifyReader streams r through a new Stream; file names the input in the
// records (empty for one input).
func ClassifyReader(r io.Reader, file string, engine *classify.Engine, format string, emit func(*Record)) error {
	return ClassifyReaderWith(r, file, engine, format, nil, classify.DefaultTrackerConfig(), emit)
}

// ClassifyReaderWith is ClassifyReader with the correlation limits and the
// key that hashes the correlation keys (nil: a random key).
func ClassifyReaderWith(r io.Reader, file string, engine *classify.Engine, format string, key []byte,
	cfg classify.TrackerConfig, emit func(*Record)) error {
	s, err := NewStream(engine, format, cfg, key)
	if err != nil {
		return err
	}
	return ReadLines(r, s.maxLine, func(n int, line []byte, truncated bool) error {
		s.Line(n, line, truncated, func(rec *Record) {
			rec.File = file
			emit(rec)
		})
		return nil
	})
}
