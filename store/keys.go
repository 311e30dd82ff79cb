package store

// Key layout. Per-user keys carry the user id in a hash tag so that Redis
// Cluster places them in one slot.
const (
	keyGeneration   = "gw:generation" // string: id of this data set, changes when data is lost
	keyUserIndex    = "gw:idx:users"  // zset (lex): "username\x00uid"
	keyEmailIndex   = "gw:idx:emails" // zset (lex): "email\x00uid"
	keyRevoked      = "gw:revoked"    // zset: session id -> unix time it would have expired
	keySignedOut    = "gw:signedout"  // hash: uid -> unix nanos "sessions issued before are dead"
	keyFeed         = "gw:{feed}"     // stream: changes replicas follow
	keyFeedSeq      = "gw:{feed}:seq" // counter: sequence number of the newest feed entry
	keyAudit        = "gw:audit"      // stream: staff actions
	prefixUserName  = "gw:username:"  // string: canonical username -> uid
	prefixUser      = "gw:user:{"     // hash per user
	prefixSessions  = "gw:sessions:{" // zset per user: session id -> absolute expiry unix
	prefixSession   = "gw:session:{"  // hash per session
	prefixActivity  = "gw:activity:{" // stream per user
	prefixThrottle  = "gw:throttle:"  // counters for brute-force limits
	prefixResetLink = "gw:resetlink:" // one-time password reset tokens: "t:"+sha256 hex, "u:"+uid
	keyAPITokens    = "gw:apitokens"  // hash: token id -> sha256 hex of the token
	prefixAPIToken  = "gw:apitoken:"  // hash per API token, keyed by sha256 hex of the token
)

func keyUser(uid string) string         { return prefixUser + uid + "}" }
func keyUserName(name string) string    { return prefixUserName + name }
func keySessions(uid string) string     { return prefixSessions + uid + "}" }
func keySession(uid, sid string) string { return prefixSession + uid + "}:" + sid }
func keyActivity(uid string) string     { return prefixActivity + uid + "}" }
