// Command vexgen writes an OpenVEX document the way `vexctl create` does: go-vex's vex.New(),
// one statement per -statement flag (product,vulnerability,status,justification-or-action),
// a canonical @id, then vex.ToJSON.
package main

import (
	"flag"
	"log"
	"os"
	"strings"

	"github.com/openvex/go-vex/pkg/vex"
)

type statements []string

func (s *statements) String() string     { return strings.Join(*s, ";") }
func (s *statements) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	author := flag.String("author", vex.DefaultAuthor, "document author")
	role := flag.String("role", "", "author role")
	var stmts statements
	flag.Var(&stmts, "statement", "product,vulnerability,status[,justification|action]")
	flag.Parse()

	doc := vex.New()
	doc.Author = *author
	doc.AuthorRole = *role
	for _, s := range stmts {
		f := strings.SplitN(s, ",", 4)
		st := vex.Statement{
			Vulnerability: vex.Vulnerability{Name: vex.VulnerabilityID(f[1])},
			Products:      []vex.Product{{Component: vex.Component{ID: f[0]}}},
			Status:        vex.Status(f[2]),
			Timestamp:     doc.Timestamp,
		}
		if len(f) == 4 {
			switch st.Status {
			case vex.StatusNotAffected:
				st.Justification = vex.Justification(f[3])
			case vex.StatusAffected:
				st.ActionStatement = f[3]
			}
		}
		if err := st.Validate(); err != nil {
			log.Fatal(err)
		}
		doc.Statements = append(doc.Statements, st)
	}
	if _, err := doc.GenerateCanonicalID(); err != nil {
		log.Fatal(err)
	}
	if err := doc.ToJSON(os.Stdout); err != nil {
		log.Fatal(err)
	}
}
