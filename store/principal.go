package store

import "time"

// Principal is the signed-in person behind a request: the decoded cookie and
// the user's current state.
type Principal struct {
	Claims Claims
	User   *UserState
}

// AuthOutcome is the result of reading a request's session.
type AuthOutcome int

// Outcomes of reading a session.
const (
	NoSession   AuthOutcome = iota // no cookie, or one that does not decode
	Valid                          // fully signed in
	Pending                        // password passed, second factor still due
	Ended                          // revoked, expired, signed out everywhere, user disabled or gone
	Unavailable                    // could not check: fail closed
)

// IssueOptions describes a session to issue.
type IssueOptions struct {
	UserID  string
	Created time.Time // original sign-in; zero means now
	AuthAt  time.Time // when the password was last entered; zero means now
	MFA     bool      // a second factor was passed
	Pending uint8     // PendingNone, PendingCode or PendingEnroll
	IP      string
	Agent   string
	Name    string // device name carried over on re-issue
}
