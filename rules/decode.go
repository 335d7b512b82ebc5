package rules

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Position is where a catalog entry or a problem sits in its file.
type Position struct {
	File string
	Line int
	Col  int
}

func (p Position) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Problem is one thing wrong with a catalog file.
type Problem struct {
	Pos Position
	Msg string
}

func (p Problem) Error() string { return p.Pos.String() + ": " + p.Msg }

// Problems is every problem found in a catalog; the catalog is refused whole.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// StringList is a YAML scalar or a sequence of scalars.
type StringList []string

// decoder decodes yaml.Nodes into structs strictly: unknown fields, wrong
// kinds and duplicate keys are problems with their position. Structs are
// described by `yaml:"name"` tags; a field of type Position receives the
// position of the node it was decoded from.
type decoder struct {
	file     string
	problems Problems
}

var (
	positionType   = reflect.TypeOf(Position{})
	stringListType = reflect.TypeOf(StringList{})
)

func (d *decoder) pos(n *yaml.Node) Position {
	return Position{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.problems = append(d.problems, Problem{Pos: d.pos(n), Msg: fmt.Sprintf(format, args...)})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		d.errorf(n, "aliases are not allowed in a catalog")
		return
	}
	if v.Type() == stringListType {
		d.decodeStringList(n, v)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "expected a list, found %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.errorf(n, "expected a string, found %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, "expected a number, found %s", kindName(n))
			return
		}
		i, err := strconv.Atoi(n.Value)
		if err != nil {
			d.errorf(n, "expected a whole number, found %q", n.Value)
			return
		}
		v.SetInt(int64(i))
	default:
		d.errorf(n, "internal: cannot decode into %s", v.Type())
	}
}

func (d *decoder) decodeStringList(n *yaml.Node, v reflect.Value) {
	switch n.Kind {
	case yaml.ScalarNode:
		v.Set(reflect.ValueOf(StringList{n.Value}))
	case yaml.SequenceNode:
		out := make(StringList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				d.errorf(c, "expected a string, found %s", kindName(c))
				continue
			}
			out = append(out, c.Value)
		}
		v.Set(reflect.ValueOf(out))
	default:
		d.errorf(n, "expected a string or a list of strings, found %s", kindName(n))
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "expected a mapping, found %s", kindName(n))
		return
	}
	t := v.Type()
	fields := map[string]int{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == positionType {
			v.Field(i).Set(reflect.ValueOf(d.pos(n)))
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		if !ok {
			d.errorf(k, "unknown field %q (known: %s)", k.Value, strings.Join(names, ", "))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "field %q given twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.decode(val, v.Field(idx))
	}
}

// decodeFile decodes one catalog file into f strictly.
func decodeFile(name string, data []byte, f *file) Problems {
	d := &decoder{file: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Problems{{Pos: Position{File: name, Line: yamlErrorLine(err), Col: 1}, Msg: err.Error()}}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	d.decode(doc.Content[0], reflect.ValueOf(f).Elem())
	return d.problems
}

// yamlErrorLine pulls the line out of a yaml syntax error ("yaml: line 3: ...").
func yamlErrorLine(err error) int {
	s := err.Error()
	if i := strings.Index(s, "line "); i >= 0 {
		j := i + 5
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if n, e := strconv.Atoi(s[i+5 : j]); e == nil {
			return n
		}
	}
	return 1
}
