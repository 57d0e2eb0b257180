//! The route table: every endpoint with its method, path, who may call it and what it does.
//! The router, the OpenAPI document and the authorization-matrix test are all generated from
//! this one list, so an endpoint cannot exist without a declared access rule.

use axum::routing::MethodRouter;

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

mod approvals;
mod base;
mod notifications;

/// One route of the table.
fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
    body: BodyKind,
    produces: &'static str,
    handler: fn() -> MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        access,
        summary,
        body,
        produces,
        handler,
    }
}

/// Every endpoint of the server.
pub fn table() -> Vec<Route> {
    let mut all = base::routes();
    all.extend(approvals::routes());
    all.extend(notifications::routes());
    all
}
