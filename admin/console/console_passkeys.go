package console

import (
	"context"
	"net/http"
	"strconv"

	"github.com/authgate/gateway/store"
)

// actRemovePasskeys removes every passkey of a user, for someone who lost
// the devices they were on, or whose passkey may have been copied. Like a
// 2FA reset it signs the user out everywhere (sessions the passkeys made
// end with them) and is refused on one's own account.
var actRemovePasskeys = &staffAction{audit: store.AuditPasskeysRemove, notSelf: true, run: (*Handler).doRemovePasskeys}

func (h *Handler) doRemovePasskeys(ctx context.Context, _ *staffActor, u *store.User, in *actionInput) (*actionResult, *actionError) {
	n, err := h.Store.DeletePasskeys(ctx, u.ID)
	if err != nil {
		h.Log.Error("staff remove passkeys", "err", err.Error())
		return nil, errStaffUnavailable
	}
	if n == 0 {
		return nil, staffRefuse(http.StatusConflict, "no_passkeys", "This user has no passkeys.")
	}
	if aerr := h.staffSignOut(ctx, in, u, store.EndMFAChanged); aerr != nil {
		return nil, aerr
	}
	what := "your passkey"
	if n > 1 {
		what = "your " + strconv.Itoa(n) + " passkeys"
	}
	return &actionResult{eventType: store.EventPasskeyRemoved, detail: strconv.Itoa(n) + " passkey(s) removed",
		text: "removed " + what + " and signed you out of all devices", notice: "passkeys_removed"}, nil
}
