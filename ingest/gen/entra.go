package gen

import (
	"strings"
)

// Entra: sign-in records (diagnostic settings export) and token error bodies.

// entraSignIn is the result of a sign-in record ("0": success).
type entraSignIn struct{ code, desc string }

// entraError is a token endpoint error body ($app in desc: the application id).
type entraError struct{ err, code, desc string }

// entraUser appends a user sign-in record (diagnostic settings export) of
// client c's application, from ip and by user when given.
func (g *Generator) entraUser(b []byte, c int, e *entraSignIn, category string, ip []byte, user int) []byte {
	if ip == nil {
		ip = g.appendIP(g.ids[2][:0], "192.0.2.")
	}
	if user < 0 {
		user = g.rnd.IntN(numUsers)
	}
	corr := g.uuid(0)
	g.setKey(corr)
	b = append(b, `{"time":"`...)
	b = appendEntraTime(b, g.now, "Z")
	b = append(b, `","resourceId":"/tenants/`+tenant+`/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"`...)
	b = append(b, category...)
	b = append(b, `","tenantId":"`+tenant+`","resultType":"`...)
	b = append(b, e.code...)
	b = append(b, `","resultSignature":"None",`...)
	if e.desc != "" {
		b = append(b, `"resultDescription":"`...)
		b = append(b, e.desc...)
		b = append(b, `",`...)
	}
	b = append(b, `"durationMs":0,"callerIpAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","correlationId":"`...)
	b = append(b, corr...)
	b = append(b, `","identity":"`...)
	b = g.appendDisplayName(b, user)
	b = append(b, `","Level":4,"location":"DE","properties":{"id":"`...)
	b = g.appendUUID(b)
	b = append(b, `","createdDateTime":"`...)
	b = appendEntraTime(b, g.now, "+00:00")
	b = append(b, `","userDisplayName":"`...)
	b = g.appendDisplayName(b, user)
	b = append(b, `","userPrincipalName":"`...)
	b = g.appendUsername(b, user)
	b = append(b, `@contoso.example","userId":"`...)
	if user < numUsers { // an unknown user name has no id
		b = appendUserID(b, user)
	}
	b = append(b, `","appId":"`...)
	b = append(b, g.appIDs[c]...)
	b = append(b, `","appDisplayName":"`...)
	b = append(b, g.clients[c]...)
	b = append(b, `","ipAddress":"`...)
	b = append(b, ip...)
	b = appendSignInStatus(b, e)
	if category == "SignInLogs" {
		b = append(b, `},"clientAppUsed":"Browser","correlationId":"`...)
	} else {
		b = append(b, `},"clientAppUsed":"Mobile Apps and Desktop clients","correlationId":"`...)
	}
	b = append(b, corr...)
	b = append(b, `","conditionalAccessStatus":"notApplied","isInteractive":`...)
	if category == "SignInLogs" {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	return append(b, `,"tokenIssuerType":"AzureAD","resourceDisplayName":"Microsoft Graph","resourceId":"00000003-0000-0000-c000-000000000000","userType":"Member"}}`...)
}

// entraSP appends a service-principal sign-in record of client c (the
// client_credentials grant), keys sorted as in the real export.
func (g *Generator) entraSP(b []byte, c int, e *entraSignIn) []byte {
	ip := g.appendIP(g.ids[2][:0], "192.0.2.")
	corr := g.uuid(0)
	g.setKey(corr)
	b = append(b, `{"Level":4,"callerIpAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","category":"ServicePrincipalSignInLogs","correlationId":"`...)
	b = append(b, corr...)
	b = append(b, `","durationMs":0,"location":"DE","operationName":"Sign-in activity","operationVersion":"1.0","properties":{"appId":"`...)
	b = append(b, g.appIDs[c]...)
	b = append(b, `","correlationId":"`...)
	b = append(b, corr...)
	b = append(b, `","createdDateTime":"`...)
	b = appendEntraTime(b, g.now, "+00:00")
	b = append(b, `","id":"`...)
	b = g.appendUUID(b)
	b = append(b, `","ipAddress":"`...)
	b = append(b, ip...)
	b = append(b, `","isInteractive":false,"resourceDisplayName":"Microsoft Graph","resourceId":"00000003-0000-0000-c000-000000000000","servicePrincipalId":"`...)
	b = append(b, g.spIDs[c]...)
	b = append(b, `","servicePrincipalName":"`...)
	b = append(b, g.clients[c]...)
	b = appendSignInStatus(b, e)
	b = append(b, `},"tokenIssuerType":"AzureAD","userId":null},"resourceId":"/tenants/`+tenant+`/providers/Microsoft.aadiam","resultSignature":"None","resultType":"`...)
	b = append(b, e.code...)
	b = append(b, `","tenantId":"`+tenant+`","time":"`...)
	b = appendEntraTime(b, g.now, "Z")
	return append(b, `"}`...)
}

// entraToken appends a token endpoint error body as a client logs it
// (client c's application id where the text names the app).
func (g *Generator) entraToken(b []byte, c int, e *entraError) []byte {
	trace, corr := g.uuid(0), g.uuid(1)
	g.setKey(corr)
	b = append(b, `{"error":"`...)
	b = append(b, e.err...)
	b = append(b, `","error_description":"AADSTS`...)
	b = append(b, e.code...)
	b = append(b, ": "...)
	if before, after, ok := strings.Cut(e.desc, "$app"); ok {
		b = append(b, before...)
		b = append(b, g.appIDs[c]...)
		b = append(b, after...)
	} else {
		b = append(b, e.desc...)
	}
	b = append(b, `\r\nTrace ID: `...)
	b = append(b, trace...)
	b = append(b, `\r\nCorrelation ID: `...)
	b = append(b, corr...)
	b = append(b, `\r\nTimestamp: `...)
	b = appendDateTime(b, g.now, ' ')
	b = append(b, `Z","error_codes":[`...)
	b = append(b, e.code...)
	b = append(b, `],"timestamp":"`...)
	b = appendDateTime(b, g.now, ' ')
	b = append(b, `Z","trace_id":"`...)
	b = append(b, trace...)
	b = append(b, `","correlation_id":"`...)
	b = append(b, corr...)
	b = append(b, `","error_uri":"https://login.microsoftonline.com/error?code=`...)
	b = append(b, e.code...)
	return append(b, `"}`...)
}

// appendSignInStatus appends a sign-in record's status object up to its
// closing brace: the error code and, when there is one, the failure reason.
func appendSignInStatus(b []byte, e *entraSignIn) []byte {
	b = append(b, `","status":{"errorCode":`...)
	b = append(b, e.code...)
	if e.desc != "" {
		b = append(b, `,"failureReason":"`...)
		b = append(b, e.desc...)
		b = append(b, '"')
	}
	return b
}
