package contract

// IsDNS1123Label reports whether s can name a material: an RFC 1123 label of at most 63 characters.
func IsDNS1123Label(s string) bool { return len(s) <= maxLabel && dnsLabel.MatchString(s) }
