package attestation

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
)

// Digest is the address of an attestation: "sha256:<hex>" of the canonical JSON of its DSSE envelope,
// {"payload":"<base64>","payloadType":"...","signatures":[{"keyid":"...","sig":"<base64>"}]} with keys in
// that (sorted) order, standard base64 and no whitespace. The same envelope has the same digest
// whether it came bare or inside a bundle, and however the bundle's JSON was formatted.
func (e Envelope) Digest() string {
	type sig struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}
	type canonical struct {
		Payload     string `json:"payload"`
		PayloadType string `json:"payloadType"`
		Signatures  []sig  `json:"signatures"`
	}
	c := canonical{Payload: base64.StdEncoding.EncodeToString(e.Payload), PayloadType: e.PayloadType, Signatures: []sig{}}
	for _, s := range e.Signatures {
		c.Signatures = append(c.Signatures, sig{KeyID: s.KeyID, Sig: base64.StdEncoding.EncodeToString(s.Sig)})
	}
	b, _ := json.Marshal(c) // strings and slices of strings always marshal
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
