package herd

// MaxIDLength is the longest counter name, item id, file key or request id.
const MaxIDLength = 128

// ValidID reports whether s is 1–128 characters of [A-Za-z0-9._-], the
// shape API.md requires of counter names, item ids and file keys, and of a
// caller's X-Request-ID. Ids of only dots ("." and "..") are refused too: a
// blob store backed by a folder would read them as paths.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLength {
		return false
	}
	dotsOnly := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			dotsOnly = false
		case c == '.':
		default:
			return false
		}
	}
	return !dotsOnly
}
