//! The route table: every endpoint with its method, path, who may call it and what it does.
//! The router, the OpenAPI document and the authorization-matrix test are all generated from
//! this one list, so an endpoint cannot exist without a declared access rule.

use axum::routing::{MethodRouter, delete, get, patch, post, put};

use super::handlers as h;
use crate::state::AppState;
use crate::users::Role;

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without credentials.
    Public,
    /// Any logged-in user, even one who must still change a one-time password.
    SelfService,
    /// Users holding one of these roles.
    Roles(&'static [Role]),
}

/// People (every role but service).
pub const PERSONS: &[Role] = &[Role::Admin, Role::Signer, Role::Approver, Role::Auditor];
/// Everyone logged in.
pub const EVERYONE: &[Role] = &[Role::Admin, Role::Signer, Role::Approver, Role::Auditor, Role::Service];
/// Who can sign and upload.
pub const SIGNERS: &[Role] = &[Role::Admin, Role::Signer, Role::Approver, Role::Service];
/// People who can sign.
pub const PERSON_SIGNERS: &[Role] = &[Role::Admin, Role::Signer, Role::Approver];
/// Administrators.
pub const ADMINS: &[Role] = &[Role::Admin];
/// Readers of the audit log.
pub const AUDITORS: &[Role] = &[Role::Admin, Role::Auditor];

/// The kind of request body an endpoint takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// A JSON object.
    Json,
    /// The raw file.
    File,
}

/// One endpoint.
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path (axum syntax, `{id}` for parameters).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// What it does.
    pub summary: &'static str,
    /// Request body.
    pub body: BodyKind,
    /// Media type of a successful answer.
    pub produces: &'static str,
    /// The handler.
    pub handler: fn() -> MethodRouter<AppState>,
}

const JSON: &str = "application/json";

/// The API-token scope an endpoint needs (on top of the caller's roles): administrators'
/// endpoints need `admin`; changes to the caller's own account (password, authenticator,
/// tokens) too; other reads and verification `read`; everything else that changes something
/// `sign`. Sessions are not scoped.
pub fn scope(route: &Route) -> crate::tokens::Scope {
    use crate::tokens::Scope;
    if route.access == Access::Roles(ADMINS) {
        return Scope::Admin;
    }
    if matches!(route.method, "GET" | "HEAD") || route.path.ends_with("/verify") {
        return Scope::Read;
    }
    if route.path.starts_with("/api/v1/me/") {
        return Scope::Admin;
    }
    Scope::Sign
}

/// Every endpoint of the server.
pub fn table() -> Vec<Route> {
    use Access::*;
    use BodyKind as B;
    let r = |method, path, access, summary, body, produces, handler| Route {
        method,
        path,
        access,
        summary,
        body,
        produces,
        handler,
    };
    vec![
        r(
            "GET",
            "/healthz",
            Public,
            "Liveness and database check",
            B::None,
            JSON,
            || get(h::healthz),
        ),
        r(
            "GET",
            "/metrics",
            Public,
            "Prometheus metrics",
            B::None,
            "text/plain",
            || get(h::metrics),
        ),
        r(
            "GET",
            "/api/v1/openapi.json",
            Public,
            "This API's OpenAPI document",
            B::None,
            JSON,
            || get(h::openapi),
        ),
        r(
            "GET",
            "/api/v1/ca/certificate",
            Public,
            "The organisation CA certificate (PEM), the trust anchor for verifiers",
            B::None,
            "application/x-pem-file",
            || get(h::ca_certificate),
        ),
        r(
            "POST",
            "/tsa",
            Public,
            "RFC 3161 time-stamping authority (application/timestamp-query → application/timestamp-reply)",
            B::File,
            "application/timestamp-reply",
            || post(h::tsa),
        ),
        r(
            "POST",
            "/ocsp",
            Public,
            "RFC 6960 OCSP responder for the organisation CA (application/ocsp-request)",
            B::File,
            "application/ocsp-response",
            || post(h::ocsp_post),
        ),
        r(
            "GET",
            "/ocsp/{request}",
            Public,
            "RFC 6960 OCSP responder, GET form (base64 request in the path)",
            B::None,
            "application/ocsp-response",
            || get(h::ocsp_get),
        ),
        r(
            "GET",
            "/crl/ca.crl",
            Public,
            "The organisation CA's CRL (DER), fresh on every request",
            B::None,
            "application/pkix-crl",
            || get(h::crl),
        ),
        r(
            "GET",
            "/ca.crt",
            Public,
            "The organisation CA certificate (DER), the AIA caIssuers location",
            B::None,
            "application/pkix-cert",
            || get(h::ca_der),
        ),
        r(
            "POST",
            "/api/v1/auth/login",
            Public,
            "Log in with username and password; sets the session cookie and returns the CSRF token",
            B::Json,
            JSON,
            || post(h::login),
        ),
        r(
            "POST",
            "/api/v1/auth/logout",
            SelfService,
            "End the session",
            B::None,
            JSON,
            || post(h::logout),
        ),
        r("GET", "/api/v1/me", SelfService, "The caller", B::None, JSON, || {
            get(h::me)
        }),
        r(
            "POST",
            "/api/v1/me/password",
            SelfService,
            "Change the caller's password",
            B::Json,
            JSON,
            || post(h::change_password),
        ),
        r(
            "POST",
            "/api/v1/me/totp/enrol",
            Roles(PERSONS),
            "Start enrolling an authenticator app (needs the account's password): otpauth URI and QR code",
            B::Json,
            JSON,
            || post(h::totp_enrol),
        ),
        r(
            "POST",
            "/api/v1/me/totp/confirm",
            Roles(PERSONS),
            "Confirm enrolment with a first code; returns recovery codes once",
            B::Json,
            JSON,
            || post(h::totp_confirm),
        ),
        r(
            "POST",
            "/api/v1/me/totp/recover",
            Roles(PERSONS),
            "Drop a lost authenticator with a recovery code",
            B::Json,
            JSON,
            || post(h::totp_recover),
        ),
        r(
            "POST",
            "/api/v1/me/tokens",
            Roles(PERSONS),
            "Create an API token for the caller (shown once)",
            B::Json,
            JSON,
            || post(h::create_own_token),
        ),
        r(
            "GET",
            "/api/v1/users",
            Roles(ADMINS),
            "List users",
            B::None,
            JSON,
            || get(h::list_users),
        ),
        r(
            "POST",
            "/api/v1/users",
            Roles(ADMINS),
            "Create a user; returns a one-time password",
            B::Json,
            JSON,
            || post(h::create_user),
        ),
        r(
            "PATCH",
            "/api/v1/users/{id}",
            Roles(ADMINS),
            "Change a user's roles or disable the account",
            B::Json,
            JSON,
            || patch(h::update_user),
        ),
        r(
            "POST",
            "/api/v1/users/{id}/password-reset",
            Roles(ADMINS),
            "Give a user a new one-time password",
            B::None,
            JSON,
            || post(h::reset_password),
        ),
        r(
            "POST",
            "/api/v1/users/{id}/unlock",
            Roles(ADMINS),
            "Clear a user's lock-outs",
            B::None,
            JSON,
            || post(h::unlock_user),
        ),
        r(
            "POST",
            "/api/v1/users/{id}/totp-reset",
            Roles(ADMINS),
            "Drop a user's authenticator so they enrol again",
            B::None,
            JSON,
            || post(h::reset_totp),
        ),
        r(
            "POST",
            "/api/v1/users/{id}/tokens",
            Roles(ADMINS),
            "Create an API token for a user (service accounts)",
            B::Json,
            JSON,
            || post(h::create_user_token),
        ),
        r(
            "DELETE",
            "/api/v1/tokens/{id}",
            Roles(EVERYONE),
            "Revoke an API token (own, or any for administrators)",
            B::None,
            JSON,
            || delete(h::revoke_token),
        ),
        r(
            "GET",
            "/api/v1/keys",
            Roles(SIGNERS),
            "Keys the caller may sign with (all keys for administrators)",
            B::None,
            JSON,
            || get(h::list_keys),
        ),
        r(
            "POST",
            "/api/v1/keys",
            Roles(PERSON_SIGNERS),
            "Generate a personal key certified by the organisation CA",
            B::Json,
            JSON,
            || post(h::create_key),
        ),
        r(
            "POST",
            "/api/v1/keys/import",
            Roles(PERSON_SIGNERS),
            "Import a personal key and certificate from PKCS#12",
            B::Json,
            JSON,
            || post(h::import_key),
        ),
        r(
            "PUT",
            "/api/v1/keys/{id}/policy",
            Roles(ADMINS),
            "Set who may use an organisation key for which document types",
            B::Json,
            JSON,
            || put(h::set_key_policy),
        ),
        r(
            "POST",
            "/api/v1/keys/{id}/revoke",
            Roles(PERSON_SIGNERS),
            "Revoke a key's certificate and disable the key (administrators: any key the CA issued; others: their own)",
            B::Json,
            JSON,
            || post(h::revoke_key),
        ),
        r(
            "POST",
            "/api/v1/keys/{id}/unlock",
            Roles(ADMINS),
            "Clear a key's lock-out after repeated wrong codes",
            B::None,
            JSON,
            || post(h::unlock_key),
        ),
        r(
            "GET",
            "/api/v1/documents",
            Roles(EVERYONE),
            "List and search documents",
            B::None,
            JSON,
            || get(h::list_documents),
        ),
        r(
            "POST",
            "/api/v1/documents",
            Roles(SIGNERS),
            "Upload a document (raw body; ?title=&number=&date=&type=&filename=)",
            B::File,
            JSON,
            || post(h::upload_document),
        ),
        r(
            "GET",
            "/api/v1/documents/{id}",
            Roles(EVERYONE),
            "A document and its versions",
            B::None,
            JSON,
            || get(h::get_document),
        ),
        r(
            "GET",
            "/api/v1/documents/{id}/content",
            Roles(EVERYONE),
            "Download the current version",
            B::None,
            "application/octet-stream",
            || get(h::download_current),
        ),
        r(
            "GET",
            "/api/v1/documents/{id}/versions/{version}",
            Roles(EVERYONE),
            "Download a version",
            B::None,
            "application/octet-stream",
            || get(h::download_version),
        ),
        r(
            "POST",
            "/api/v1/documents/{id}/sign",
            Roles(SIGNERS),
            "Sign a document (PAdES for PDFs, CAdES detached otherwise); persons need a fresh TOTP code",
            B::Json,
            JSON,
            || post(h::sign_document),
        ),
        r(
            "POST",
            "/api/v1/documents/{id}/verify",
            Roles(EVERYONE),
            "Validate a document's signatures",
            B::None,
            JSON,
            || post(h::verify_document),
        ),
        r(
            "POST",
            "/api/v1/signatures/batch",
            Roles(SIGNERS),
            "Sign several documents with one TOTP code",
            B::Json,
            JSON,
            || post(h::sign_batch),
        ),
        r(
            "POST",
            "/api/v1/verify",
            Roles(EVERYONE),
            "Validate an uploaded signed PDF or CMS signature (raw body)",
            B::File,
            JSON,
            || post(h::verify_upload),
        ),
        r(
            "GET",
            "/api/v1/audit",
            Roles(AUDITORS),
            "Read the audit log (?after=SEQ&limit=N)",
            B::None,
            JSON,
            || get(h::read_audit),
        ),
        r(
            "GET",
            "/api/v1/audit/verify",
            Roles(AUDITORS),
            "Check the audit log's hash chain and seals",
            B::None,
            JSON,
            || get(h::verify_audit),
        ),
        r(
            "POST",
            "/api/v1/audit/seal",
            Roles(AUDITORS),
            "Seal the audit log now",
            B::None,
            JSON,
            || post(h::seal_audit),
        ),
    ]
}
