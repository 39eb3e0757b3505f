// The built-in provider registry, in HYDRA_PROVIDERS_FILE's format and read by the same code, so
// the two cannot drift and an auditor reads one table. A file entry for one of these providers
// overrides its fields, replaces its "proxy" object, and replaces or (null) removes capabilities
// by name.
//
// Where the rules come from (paths as each API reference spells them; `me` is the only user a
// Google rule names, so a delegated token cannot reach another mailbox or calendar):
// - gmail: the Gmail API v1 discovery document (https://gmail.googleapis.com/$discovery/rest?version=v1,
//   also in googleapis/google-api-go-client gmail/v1/gmail-api.json): users.messages.*, users.threads.*,
//   users.labels.*, users.drafts.*, users.history.list, users.getProfile; uploads use the documented
//   "simple" media paths under /upload. Nothing allows users.settings.* (forwarding, filters,
//   delegates, send-as: the ways a mailbox is made to leak), users.watch or a permanent delete.
// - google_calendar: the Calendar API v3 discovery document (calendar/v3/calendar-api.json):
//   calendarList.list/get, calendars.get, events.list/get/instances, freebusy.query, colors.get,
//   settings.list/get; events.insert/import/quickAdd/update/patch/delete/move. Nothing allows
//   acl.* (sharing), events.watch / channels (push to a URL), or creating and deleting calendars.
// - xero: the Accounting API OpenAPI document (XeroAPI/Xero-OpenAPI xero_accounting.yaml, server
//   https://api.xero.com/api.xro/2.0) and the tenants list GET /connections
//   (https://developer.xero.com/documentation/guides/oauth2/tenants). The tenant comes from the
//   connection's metadata, never from the runtime. Rate-limit headers per
//   https://developer.xero.com/documentation/guides/oauth2/limits.
// - deputy: the Deputy API reference (https://developer.deputy.com/deputy-docs/reference): the
//   Resource API (/api/v1/resource/{Object}, /{Id}, /INFO, POST /{Object}/QUERY to search), /me,
//   /my/*, /supervise/*. The install's host (https://<install>.<geo>.deputy.com) comes from the
//   connection's metadata and must end in .deputy.com. Permanent tokens (api_key connections) go in
//   "Authorization: OAuth <token>" as Deputy documents; OAuth 2.0 connections use Bearer.
//
// The connect flow's fields (issue 20): authorization endpoints as each provider documents them,
// PKCE where the provider documents S256 for web apps with a secret (Google's "OAuth 2.0 for Web
// Server Applications", Microsoft identity platform's authorization code flow, Xero's
// "Authorization code flow with PKCE"). Deputy documents https://once.deputy.com/my/oauth/login and
// the longlife_refresh_token scope, and no PKCE. Its token answer names the install the user
// picked ("endpoint"): the broker does not carry that into metadata_json.install_host, so a
// connection made by the flow is fetched, but proxied only once its metadata names the install.
// Google gives a refresh token only with access_type=offline (an OAuth client's
// authorization_params); default scopes are the least the built-in capabilities need.
#include "broker/providers/registry.hpp"

namespace hydra::broker::providers {

std::string_view builtInProvidersJson() {
  return R"json({"providers": {
  "google": {"token_url": "https://oauth2.googleapis.com/token", "client_auth": "post",
             "rotates_refresh_tokens": false,
             "authorization_url": "https://accounts.google.com/o/oauth2/v2/auth", "pkce": true,
             "default_scopes": ["openid", "email"],
             "scope_descriptions": {"openid": "Confirm who you are",
                                    "email": "See your email address"}},
  "microsoft": {"token_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token", "client_auth": "post",
                "rotates_refresh_tokens": true,
                "authorization_url": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize", "pkce": true,
                "default_scopes": ["offline_access", "User.Read"],
                "scope_descriptions": {"offline_access": "Keep access when you are not using the app",
                                       "User.Read": "Sign you in and read your profile"}},

  "gmail": {
    "token_url": "https://oauth2.googleapis.com/token", "client_auth": "post", "rotates_refresh_tokens": false,
    "authorization_url": "https://accounts.google.com/o/oauth2/v2/auth", "pkce": true,
    "default_scopes": ["https://www.googleapis.com/auth/gmail.modify"],
    "scope_descriptions": {
      "https://www.googleapis.com/auth/gmail.modify": "Read, compose, send and organise your email (not delete it permanently)",
      "https://www.googleapis.com/auth/gmail.readonly": "Read your email and its settings",
      "https://www.googleapis.com/auth/gmail.send": "Send email on your behalf"},
    "proxy": {"base_url": "https://www.googleapis.com"},
    "capabilities": {
      "send_mail": {"allow": [
        "POST /gmail/v1/users/me/messages/send",
        "POST /upload/gmail/v1/users/me/messages/send",
        "POST /gmail/v1/users/me/drafts/send",
        "POST /upload/gmail/v1/users/me/drafts/send"]},
      "read_mail": {"allow": [
        "GET /gmail/v1/users/me/profile",
        "GET /gmail/v1/users/me/messages",
        "GET /gmail/v1/users/me/messages/*",
        "GET /gmail/v1/users/me/messages/*/attachments/*",
        "GET /gmail/v1/users/me/threads",
        "GET /gmail/v1/users/me/threads/*",
        "GET /gmail/v1/users/me/history",
        "GET /gmail/v1/users/me/labels",
        "GET /gmail/v1/users/me/labels/*"]},
      "organize_mail": {"allow": [
        "POST /gmail/v1/users/me/messages/*/modify",
        "POST /gmail/v1/users/me/messages/batchModify",
        "POST /gmail/v1/users/me/messages/*/trash",
        "POST /gmail/v1/users/me/messages/*/untrash",
        "POST /gmail/v1/users/me/threads/*/modify",
        "POST /gmail/v1/users/me/threads/*/trash",
        "POST /gmail/v1/users/me/threads/*/untrash"]},
      "manage_labels": {"allow": [
        "GET /gmail/v1/users/me/labels",
        "GET /gmail/v1/users/me/labels/*",
        "POST /gmail/v1/users/me/labels",
        "PUT /gmail/v1/users/me/labels/*",
        "PATCH /gmail/v1/users/me/labels/*",
        "DELETE /gmail/v1/users/me/labels/*"]},
      "manage_drafts": {"allow": [
        "GET /gmail/v1/users/me/drafts",
        "GET /gmail/v1/users/me/drafts/*",
        "POST /gmail/v1/users/me/drafts",
        "POST /upload/gmail/v1/users/me/drafts",
        "PUT /gmail/v1/users/me/drafts/*",
        "PUT /upload/gmail/v1/users/me/drafts/*",
        "DELETE /gmail/v1/users/me/drafts/*"]}
    }
  },

  "google_calendar": {
    "token_url": "https://oauth2.googleapis.com/token", "client_auth": "post", "rotates_refresh_tokens": false,
    "authorization_url": "https://accounts.google.com/o/oauth2/v2/auth", "pkce": true,
    "default_scopes": ["https://www.googleapis.com/auth/calendar.events",
                       "https://www.googleapis.com/auth/calendar.readonly"],
    "scope_descriptions": {
      "https://www.googleapis.com/auth/calendar.events": "See and edit events on all your calendars",
      "https://www.googleapis.com/auth/calendar.readonly": "See your calendars and their events"},
    "proxy": {"base_url": "https://www.googleapis.com"},
    "capabilities": {
      "read_events": {"allow": [
        "GET /calendar/v3/users/me/calendarList",
        "GET /calendar/v3/users/me/calendarList/*",
        "GET /calendar/v3/users/me/settings",
        "GET /calendar/v3/users/me/settings/*",
        "GET /calendar/v3/calendars/*",
        "GET /calendar/v3/calendars/*/events",
        "GET /calendar/v3/calendars/*/events/*",
        "GET /calendar/v3/calendars/*/events/*/instances",
        "POST /calendar/v3/freeBusy",
        "GET /calendar/v3/colors"]},
      "write_events": {"allow": [
        "POST /calendar/v3/calendars/*/events",
        "POST /calendar/v3/calendars/*/events/import",
        "POST /calendar/v3/calendars/*/events/quickAdd",
        "PUT /calendar/v3/calendars/*/events/*",
        "PATCH /calendar/v3/calendars/*/events/*",
        "DELETE /calendar/v3/calendars/*/events/*",
        "POST /calendar/v3/calendars/*/events/*/move"]}
    }
  },

  "xero": {
    "token_url": "https://identity.xero.com/connect/token", "client_auth": "basic", "rotates_refresh_tokens": true,
    "authorization_url": "https://login.xero.com/identity/connect/authorize", "pkce": true,
    "default_scopes": ["offline_access", "accounting.transactions", "accounting.contacts", "accounting.settings"],
    "scope_descriptions": {
      "offline_access": "Keep access when you are not using the app",
      "accounting.transactions": "See and change your invoices, bills, payments and bank transactions",
      "accounting.contacts": "See and change your contacts",
      "accounting.settings": "See and change your organisation's settings (accounts, tax rates, currencies)"},
    "proxy": {
      "base_url": "https://api.xero.com",
      "header_from_metadata": {"field": "tenant_id", "header": "Xero-Tenant-Id"},
      "request_headers": ["Idempotency-Key"],
      "response_headers": ["X-Rate-Limit-Problem", "X-DayLimit-Remaining", "X-MinLimit-Remaining",
                           "X-AppMinLimit-Remaining"]
    },
    "capabilities": {
      "read_accounting": {"allow": [
        "GET /api.xro/2.0/**",
        "GET /connections"]},
      "write_accounting": {"allow": [
        "POST /api.xro/2.0/**",
        "PUT /api.xro/2.0/**"]}
    }
  },

  "deputy": {
    "token_url": "https://once.deputy.com/my/oauth/access_token", "client_auth": "post", "rotates_refresh_tokens": true,
    "authorization_url": "https://once.deputy.com/my/oauth/login", "pkce": false,
    "default_scopes": ["longlife_refresh_token"],
    "scope_descriptions": {"longlife_refresh_token": "Keep access to your Deputy install when you are not using the app"},
    "proxy": {
      "base_url": "https://{host}",
      "host_from_metadata": {"field": "install_host", "suffix": ".deputy.com"},
      "api_key": {"header": "Authorization", "prefix": "OAuth "}
    },
    "capabilities": {
      "read_workforce": {"allow": [
        "GET /api/v1/resource/**",
        "POST /api/v1/resource/*/QUERY",
        "GET /api/v1/me",
        "GET /api/v1/my/**",
        "GET /api/v1/supervise/**"]},
      "write_workforce": {"allow": [
        "POST /api/v1/resource/*",
        "POST /api/v1/resource/*/*",
        "POST /api/v1/supervise/**"]}
    }
  }
}})json";
}

}  // namespace hydra::broker::providers
