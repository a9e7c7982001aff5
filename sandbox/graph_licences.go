package sandbox

// The tenant's subscriptions, GET /subscribedSkus
// (https://learn.microsoft.com/graph/api/subscribedsku-list): an
// Enterprise Mobility + Security E3 subscription, which carries Entra ID P1
// (service plan AAD_PREMIUM), unless the world is WithoutPremiumLicence,
// which leaves Office 365 E1 alone. SKU and service plan IDs are those of
// Microsoft's "Product names and service plan identifiers for licensing".

import (
	"net/http"

	"github.com/platformguide/ssocutover/sandbox/world"
)

type servicePlanDoc struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
	AppliesTo          string `json:"appliesTo"`
}

type subscribedSkuDoc struct {
	ID               string           `json:"id"`
	AccountID        string           `json:"accountId"`
	SkuID            string           `json:"skuId"`
	SkuPartNumber    string           `json:"skuPartNumber"`
	AppliesTo        string           `json:"appliesTo"`
	CapabilityStatus string           `json:"capabilityStatus"`
	ConsumedUnits    int              `json:"consumedUnits"`
	PrepaidUnits     map[string]int   `json:"prepaidUnits"`
	ServicePlans     []servicePlanDoc `json:"servicePlans"`
}

func subscribedSkus(w *world.World) []subscribedSkuDoc {
	sku := func(skuID, part string, plans ...servicePlanDoc) subscribedSkuDoc {
		return subscribedSkuDoc{
			ID: w.Entra.TenantID + "_" + skuID, AccountID: w.Entra.TenantID, SkuID: skuID, SkuPartNumber: part,
			AppliesTo: "User", CapabilityStatus: "Enabled", ConsumedUnits: len(w.Entra.Users),
			PrepaidUnits: map[string]int{"enabled": len(w.Entra.Users) + 10, "suspended": 0, "warning": 0},
			ServicePlans: plans,
		}
	}
	plan := func(id, name string) servicePlanDoc {
		return servicePlanDoc{ServicePlanID: id, ServicePlanName: name, ProvisioningStatus: "Success", AppliesTo: "User"}
	}
	skus := []subscribedSkuDoc{sku("18181a46-0d4e-45cd-891e-60aabd171b4e", "STANDARDPACK",
		plan("9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD"),
		plan("c7699d2e-19aa-44de-8edf-1736da088ca1", "SHAREPOINTSTANDARD"))}
	if !w.Entra.WithoutPremiumLicence {
		skus = append(skus, sku("efccb6f7-5641-4e0e-bd10-b4976e1bf68e", "EMS",
			plan("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
			plan("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A")))
	}
	return skus
}

func (s *graphServer) serveSubscribedSkus(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeGraphError(w, &graphError{Status: http.StatusMethodNotAllowed, Code: "Request_BadRequest", Message: "Only GET is served on /subscribedSkus."})
		return
	}
	writeGraphJSON(w, http.StatusOK, map[string]any{
		"@odata.context": graphServiceRoot(r) + "/$metadata#subscribedSkus",
		"value":          s.skus,
	})
}
