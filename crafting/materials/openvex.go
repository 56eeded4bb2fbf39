package materials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/openvex/go-vex/pkg/vex"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindOpenVEX, craftOpenVEX) }

// claimsOpenVEX: a top-level @context naming OpenVEX (of any version: an old one is this kind's error).
func claimsOpenVEX(s *sniffed) bool {
	context, _ := s.str("@context")
	return strings.HasPrefix(context, vex.Context)
}

func craftOpenVEX(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateOpenVEX)
}

// validateOpenVEX accepts an OpenVEX document of the version go-vex reads (its @context is
// vex.ContextLocator(), https://openvex.dev/ns/v0.2.0), parsed by go-vex, with @id, author and at
// least one statement, each naming its vulnerability and passing go-vex's statement validation
// (status, justification, impact and action statements). A JSON document whose @context is not
// OpenVEX's is not OpenVEX at all.
func validateOpenVEX(f *os.File) (map[string]string, error) {
	top := scanTopLevel(f, []string{"@context"}, nil)
	context, _ := top.str("@context")
	if !strings.HasPrefix(context, vex.Context) {
		return nil, notThisKind("no OpenVEX @context, not an OpenVEX document", top)
	}
	if context != vex.ContextLocator() {
		return nil, fmt.Errorf("@context %q is not supported (OpenVEX %s)", context, vex.ContextLocator())
	}
	data, err := readDocument(f)
	if err != nil {
		return nil, err
	}
	doc, err := vex.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse OpenVEX document: %s", syntaxReason(err))
	}
	switch {
	case doc.ID == "":
		return nil, errors.New("@id is missing")
	case doc.Author == "":
		return nil, errors.New("author is missing")
	case len(doc.Statements) == 0:
		return nil, errors.New("the document has no statements")
	}
	for i := range doc.Statements {
		stmt := &doc.Statements[i]
		if stmt.Vulnerability.Name == "" && stmt.Vulnerability.ID == "" {
			return nil, fmt.Errorf("statements[%d] names no vulnerability", i)
		}
		if err := stmt.Validate(); err != nil {
			return nil, fmt.Errorf("statements[%d] (%s): %w", i, stmt.Vulnerability.Name, err)
		}
	}
	return map[string]string{
		"format":         "OpenVEX",
		"context":        context,
		"id":             doc.ID,
		"author":         doc.Author,
		"statementCount": itoa(len(doc.Statements)),
	}, nil
}
