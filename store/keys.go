package store

// Key layout.
//
// Every key that the request path of every replica needs — the store
// generation, the revocation list, the sign-out-everywhere times, the change
// feed and its sequence number — carries the one hash tag {g}, so Redis
// Cluster keeps them in one slot (on one master): losing any other master
// never stops every request, and a change and its feed entry can be written
// in one atomic script. Per-user keys carry the user id as their hash tag, so
// a user's records share a slot of their own.
//
// These names replaced gw:generation, gw:revoked and gw:{feed} (releases
// before the one-slot layout). The new generation key starts empty, so an
// upgraded deployment makes a new generation on its first start: every
// session issued before the upgrade is refused once and people sign in
// again; users, passwords and 2FA are untouched (README, "Upgrading").
const (
	globalTag        = "gw:{g}:"
	keyGeneration    = globalTag + "generation" // string: id of this data set, changes when data is lost or all sessions end
	keyRevoked       = globalTag + "revoked"    // zset: session id -> unix time it would have expired
	keySignedOut     = globalTag + "signedout"  // hash: uid -> unix nanos "sessions issued before are dead"
	keyFeed          = globalTag + "feed"       // stream: changes replicas follow
	keyFeedSeq       = globalTag + "seq"        // counter: sequence number of the newest feed entry
	keyUserIndex     = "gw:idx:users"           // zset (lex): "username\x00uid"
	keyEmailIndex    = "gw:idx:emails"          // zset (lex): "email\x00uid"
	keyAudit         = "gw:audit"               // stream: staff actions
	prefixUserName   = "gw:username:"           // string: canonical username -> uid
	prefixUser       = "gw:user:{"              // hash per user
	prefixSessions   = "gw:sessions:{"          // zset per user: session id -> absolute expiry unix
	prefixSession    = "gw:session:{"           // hash per session
	prefixActivity   = "gw:activity:{"          // stream per user
	prefixThrottle   = "gw:throttle:"           // counters for brute-force limits
	prefixResetLink  = "gw:resetlink:"          // one-time password reset tokens: "t:"+sha256 hex, "u:"+uid
	keyAPITokens     = "gw:apitokens"           // hash: token id -> sha256 hex of the token
	prefixAPIToken   = "gw:apitoken:"           // hash per API token, keyed by sha256 hex of the token
	prefixHandoff    = "gw:handoff:"            // string per sign-in handoff code, keyed by sha256 hex of the code
	prefixSessionWhy = "gw:why:{"               // string per revoked session: why it ended (endreason.go)
	prefixMFAReplace = "gw:mfareplace:{"        // string per sign-in: sealed new TOTP secret awaiting its first code (mfareplace.go)
	prefixNewSignIns = "gw:newsignins:{"        // hash per user: session id -> unanswered new sign-in (newsignin.go)

	// Console dashboard indexes (dashboard.go): each bounded and trimmed as
	// it is written, so the console home page reads a few small keys
	// instead of scanning every user or session.
	keyActiveIndex    = "gw:idx:active"       // zset: "uid\x00sid" -> last-seen unix (last ActiveWindow only)
	keyThrottledIndex = "gw:idx:throttled"    // zset: throttle key -> unix ms its delay ends
	keyLockedIndex    = "gw:idx:locked"       // zset: uid -> unix time it was locked or disabled
	keyLockedBuilt    = "gw:idx:locked:built" // string: set once the locked index covers every user
	prefixStatsHour   = "gw:stats:h:"         // hash per hour (unix hours): sign_in, sign_in_failed counts
	prefixIPSeen      = "gw:ipseen:"          // zset per client address: uid -> unix time of its last sign-in from there
)

// globalKeys are the keys of the one shared slot, in the order the change
// script expects them.
var globalKeys = []string{keyFeed, keyFeedSeq, keyRevoked, keySignedOut, keyGeneration}

func keyUser(uid string) string         { return prefixUser + uid + "}" }
func keyUserName(name string) string    { return prefixUserName + name }
func keySessions(uid string) string     { return prefixSessions + uid + "}" }
func keySession(uid, sid string) string { return prefixSession + uid + "}:" + sid }
func keyActivity(uid string) string     { return prefixActivity + uid + "}" }
