package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/authsift/authsift/ingest"
)

func runRulesCheck(g *globalOptions, stdout io.Writer) (int, error) {
	engine, err := g.engine()
	if err != nil {
		return exitFailed, err
	}
	cat := engine.Catalog()
	fmt.Fprintf(stdout, "catalog OK: %d classes, %d rules, %d test cases\n", len(cat.Classes()), len(cat.Rules()), len(cat.Tests()))
	return exitOK, nil
}

func runRulesTest(g *globalOptions, verbose bool, stdout io.Writer) (int, error) {
	engine, err := g.engine()
	if err != nil {
		return exitFailed, err
	}
	rep := ingest.RunTests(engine)
	for _, r := range rep.Results {
		if len(r.Problems) == 0 {
			if verbose {
				fmt.Fprintf(stdout, "ok    %s: %s\n", r.Case.Pos, r.Case.Name)
			}
			continue
		}
		fmt.Fprintf(stdout, "FAIL  %s: %s\n", r.Case.Pos, r.Case.Name)
		for _, p := range r.Problems {
			fmt.Fprintf(stdout, "      %s\n", p)
		}
	}
	for _, r := range rep.UntestedRules {
		fmt.Fprintf(stdout, "UNTESTED  %s: rule %s is exercised by no passing test case\n", r.Pos, r.ID)
	}
	for _, c := range rep.UnreachedClasses {
		fmt.Fprintf(stdout, "UNREACHED %s: class %s is reached by no test case and not marked unreachable\n", c.Pos, c.ID)
	}
	cat := engine.Catalog()
	fmt.Fprintf(stdout, "%d passed, %d failed\n", len(rep.Results)-rep.Failed, rep.Failed)
	fmt.Fprintf(stdout, "rules: %d of %d exercised; classes: %d of %d reached or marked unreachable\n",
		len(cat.Rules())-len(rep.UntestedRules), len(cat.Rules()),
		len(cat.Classes())-len(rep.UnreachedClasses), len(cat.Classes()))
	if !rep.OK() {
		return exitFailed, nil
	}
	return exitOK, nil
}

func runRulesList(g *globalOptions, stdout io.Writer) (int, error) {
	engine, err := g.engine()
	if err != nil {
		return exitFailed, err
	}
	cat := engine.Catalog()
	perClass := map[string]int{}
	for _, r := range cat.Rules() {
		perClass[r.Class]++
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tFAMILY\tOWNER\tRULES\tTITLE")
	for _, c := range cat.Classes() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", c.ID, c.Family, c.Owner, perClass[c.ID], c.Title)
	}
	return exitOK, tw.Flush()
}

func runRulesExplain(g *globalOptions, id string, stdout io.Writer) (int, error) {
	engine, err := g.engine()
	if err != nil {
		return exitFailed, err
	}
	cat := engine.Catalog()
	c := cat.Class(id)
	if c == nil {
		var near []string
		for _, k := range cat.Classes() {
			if strings.Contains(k.ID, id) || strings.Contains(id, k.ID) {
				near = append(near, k.ID)
			}
		}
		hint := ""
		if len(near) > 0 {
			hint = " (did you mean " + strings.Join(near, ", ") + "?)"
		}
		return exitUsage, fmt.Errorf("%w: unknown class %q%s", errUsage, id, hint)
	}
	fmt.Fprintf(stdout, "%s: %s\nfamily: %s   owner: %s\n", c.ID, c.Title, c.Family, c.Owner)
	section := func(title, body string) {
		if strings.TrimSpace(body) == "" {
			return
		}
		fmt.Fprintf(stdout, "\n%s\n", title)
		for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
			fmt.Fprintf(stdout, "  %s\n", l)
		}
	}
	section("MEANING", c.Meaning)
	section("HOW TO CONFIRM", c.Confirm)
	section("HOW TO FIX", c.Fix)
	section("NO SOURCE PRODUCES IT", c.Unreachable)
	var rs []string
	for _, r := range cat.Rules() {
		if r.Class == c.ID {
			rs = append(rs, fmt.Sprintf("%s (%s)", r.ID, r.Ref))
		}
	}
	section("RULES", strings.Join(rs, "\n"))
	section("REFERENCES", strings.Join(c.References, "\n"))
	return exitOK, nil
}
