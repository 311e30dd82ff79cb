package account

import (
	"testing"

	"github.com/authgate/gateway/store"
)

// The person's activity page names every activity type in words.
func TestEveryEventTypeHasWordsOnTheAccountPage(t *testing.T) {
	for _, e := range store.EventTypes {
		if _, ok := eventNames[e]; !ok {
			t.Errorf("activity type %q has no label on the account page", e)
		}
	}
}
