package contract

// Default returns the contract a workflow gets when it is created without one: it demands no
// materials, no environment and no runner, so any run satisfies it. name becomes metadata.name;
// pass a valid contract name (lowercase letters, digits, '-' and '.'), such as the workflow's.
func Default(name string) *Contract {
	return &Contract{
		APIVersion: APIVersion,
		Kind:       KindContract,
		Metadata:   Metadata{Name: name},
	}
}
