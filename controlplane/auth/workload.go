package auth

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/custody-dev/custody/controlplane/store"
)

// Workload is a CI job identified by its OIDC ID token, verified when it was exchanged.
type Workload struct {
	// Issuer is the token's iss: the CI's issuer URL.
	Issuer string
	// Subject is the token's sub.
	Subject string
	// Claims are all of the token's claims as encoding/json decodes them, numbers as json.Number.
	Claims map[string]any
}

// Claim returns a claim that is a string, or "".
func (w *Workload) Claim(name string) string {
	s, _ := w.Claims[name].(string)
	return s
}

// WorkloadOf returns the workload a token was exchanged for, or nil for a token that was not.
func WorkloadOf(t *store.Token) (*Workload, error) {
	if t.WorkloadIssuer == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(t.WorkloadClaims))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("token %s: workload claims: %w", t.ID, err)
	}
	w := &Workload{Issuer: t.WorkloadIssuer, Claims: claims}
	w.Subject = w.Claim("sub")
	return w, nil
}
