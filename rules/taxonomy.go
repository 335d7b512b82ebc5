package rules

// Owners say who has to act on a class (taxonomy.md).
const (
	OwnerClient   = "client"
	OwnerUser     = "user"
	OwnerOperator = "operator"
	OwnerSecurity = "security"
)

// Unclassified is the class of a failure that no rule matched.
const Unclassified = "unclassified"

// Sources are the log sources rules can be written for. Generic rules are
// also the fallback for every other source.
const (
	SourceKeycloak = "keycloak"
	SourceHydra    = "hydra"
	SourceEntra    = "entra"
	SourceGeneric  = "generic"
	SourceAuth0    = "auth0"
	SourceOkta     = "okta"

	SourceZitadel     = "zitadel"
	SourceAuthentik   = "authentik"
	SourceDex         = "dex"
	SourceProxy       = "proxy"        // nginx / Envoy JSON access logs of the auth server's endpoints
	SourceOAuth2Proxy = "oauth2_proxy" // the relying party's view: oauth2-proxy's callback failures
)

// Sources lists every known source in a stable order.
func Sources() []string {
	return []string{SourceKeycloak, SourceHydra, SourceEntra, SourceGeneric, SourceAuth0, SourceOkta,
		SourceZitadel, SourceAuthentik, SourceDex, SourceProxy, SourceOAuth2Proxy}
}

// Families groups classes for dashboards. "-" is the family of unclassified.
func Families() []string {
	return []string{
		"authorization_code", "pkce", "redirect_uri", "client_auth", "grant", "scope", "consent",
		"user_auth", "refresh_token", "request", "access_token", "server", "-",
	}
}

// Owners lists the owners in a stable order.
func Owners() []string {
	return []string{OwnerClient, OwnerUser, OwnerOperator, OwnerSecurity}
}

// Contexts are the hints a correlated earlier line can leave on an event.
func Contexts() []string {
	return []string{"code_already_used", "code_malformed"}
}

// Correlations are the kinds of ambiguous failure a rule may hand to the
// correlation state (its `correlate` field): "code" (the server rejected a
// code without saying why: reuse, expiry or an unknown code), and
// "refresh_token" (a refresh token was presented again: a benign race or a
// replay).
func Correlations() []string {
	return []string{CorrelateCode, CorrelateRefreshToken}
}

// Correlation kinds.
const (
	CorrelateCode         = "code"
	CorrelateRefreshToken = "refresh_token"
)

// Decisions: how a verdict was reached (stored with every classified event).
const (
	// DecisionDirect: the vendor's own signal in the event decided the class.
	DecisionDirect = "direct"
	// DecisionCorrelated: other events of the stream decided it.
	DecisionCorrelated = "correlated"
)

// TaxonomyIDs are the class ids of taxonomy.md v1: a contract. A catalog must
// define every one of them; it may add more.
func TaxonomyIDs() []string {
	return []string{
		"code_reused", "code_expired", "code_unknown", "code_client_mismatch", "code_rejected",
		"pkce_verifier_mismatch", "pkce_verifier_missing", "pkce_verifier_malformed",
		"pkce_verifier_unexpected", "pkce_challenge_missing", "pkce_method_unsupported",
		"redirect_uri_unregistered", "redirect_uri_mismatch",
		"client_unknown", "client_secret_invalid", "client_secret_expired", "client_credentials_missing",
		"client_public_with_secret", "client_auth_method_mismatch", "client_assertion_invalid",
		"client_disabled",
		"grant_type_unsupported", "grant_type_not_allowed",
		"scope_not_allowed", "scope_invalid",
		"consent_required", "consent_denied", "interaction_required", "access_blocked",
		"user_credentials_invalid",
		"refresh_token_expired", "refresh_token_reused", "refresh_token_concurrent",
		"refresh_token_revoked", "refresh_token_session_ended", "refresh_token_client_mismatch",
		"refresh_token_unknown", "refresh_token_rejected",
		"request_missing_parameter", "request_malformed", "response_type_unsupported",
		"resource_invalid", "cross_origin_not_allowed", "state_invalid", "login_session_expired",
		"clock_skew",
		"access_token_expired", "access_token_invalid", "access_token_missing",
		"access_token_insufficient_scope",
		"server_unavailable", "server_error", "federation_error",
		Unclassified,
	}
}

// OAuthErrors is the set wire errors are normalised to (RFC 6749, RFC 6750,
// OIDC Core, RFC 8628, RFC 8707, RFC 7591, RFC 9101). Anything else is "other".
func OAuthErrors() []string {
	return []string{
		"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
		"unsupported_grant_type", "invalid_scope", "access_denied", "unsupported_response_type",
		"server_error", "temporarily_unavailable",
		"invalid_token", "insufficient_scope",
		"interaction_required", "login_required", "account_selection_required", "consent_required",
		"invalid_request_uri", "invalid_request_object", "request_not_supported",
		"request_uri_not_supported", "registration_not_supported",
		"authorization_pending", "slow_down", "expired_token",
		"invalid_target", "invalid_redirect_uri", "invalid_client_metadata",
	}
}

// OtherOAuthError is the normalised value of a vendor error outside OAuthErrors.
const OtherOAuthError = "other"

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
