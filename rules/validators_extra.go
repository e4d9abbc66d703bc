package rules

// extraValidators holds validators for the wider rule families, kept apart
// from the core ones so both files can grow independently.
func extraValidators() Validators {
	return Validators{}
}
