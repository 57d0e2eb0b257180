//! The authorization matrix: every endpoint of the route table × every role (and no
//! credentials, and a user who has not changed the one-time password yet). Generated from the
//! table, so a new endpoint is covered the moment it exists.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use signet_server::http::routes::{Access, BodyKind, scope, table};
use signet_server::tokens::Scope;
use signet_server::users::Role;

const ROLE_DENIED: &str = "your role does not allow this";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_times_every_role() {
    for b in backends() {
        let t = T::new(&b).await;
        let mut callers = Vec::new();
        for role in Role::ALL {
            let (session, id) = t.user(&format!("u-{}", role.as_str()), &[role.as_str()]).await;
            // Tokens for everyone, so that logout and password changes in the matrix do not end
            // the credential used for the next endpoint.
            let auth = match session {
                Auth::Bearer(_) => session,
                _ => {
                    let r = t
                        .post(
                            &format!("/api/v1/users/{id}/tokens"),
                            &t.admin,
                            json!({"name": "matrix", "scopes": if role == Role::Admin { vec!["read", "sign", "admin"] } else { vec!["read", "sign"] }}),
                        )
                        .await;
                    Auth::Bearer(r.json()["token"].as_str().unwrap().to_string())
                }
            };
            callers.push((role, auth));
        }
        // A person who still has a one-time password.
        let r = t
            .post(
                "/api/v1/users",
                &t.admin,
                json!({"username": "newbie", "display_name": "New", "roles": ["signer", "admin"]}),
            )
            .await;
        let (_, newbie) = t.login("newbie", r.json()["one_time_password"].as_str().unwrap()).await;
        let newbie = newbie.unwrap();

        let routes = table();
        assert!(routes.len() >= 30);
        for route in &routes {
            let path = route
                .path
                .split('/')
                .map(|seg| match seg {
                    "{version}" => "1",
                    s if s.starts_with('{') => "nonexistent",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            let (ct, body): (Option<&str>, Vec<u8>) = match route.body {
                BodyKind::None => (None, Vec::new()),
                BodyKind::Json => (Some("application/json"), b"{}".to_vec()),
                BodyKind::File => (Some("text/plain"), b"abc".to_vec()),
            };
            let what = format!("{} {}", route.method, route.path);
            let anon = t.req(route.method, &path, &Auth::None, ct, body.clone()).await;
            if route.access == Access::Public {
                assert_ne!(anon.status, StatusCode::UNAUTHORIZED, "{what} is public");
            } else {
                assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{what} without credentials");
            }
            for (role, auth) in &callers {
                let r = t.req(route.method, &path, auth, ct, body.clone()).await;
                let allowed = match route.access {
                    Access::Public | Access::SelfService => true,
                    Access::Roles(rs) => rs.contains(role),
                };
                if allowed {
                    assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{what} as {role:?}: {}", r.detail());
                    assert_ne!(r.detail(), ROLE_DENIED, "{what} as {role:?} must be allowed");
                } else {
                    assert_eq!(r.status, StatusCode::FORBIDDEN, "{what} as {role:?}: {}", r.detail());
                    assert_eq!(r.detail(), ROLE_DENIED, "{what} as {role:?}");
                }
                assert!(
                    r.status.as_u16() < 500,
                    "{what} as {role:?}: {} {}",
                    r.status,
                    r.detail()
                );
            }
            if let Access::Roles(_) = route.access {
                let r = t.req(route.method, &path, &newbie, ct, body.clone()).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{what} before the password change");
                assert!(r.detail().contains("one-time password"), "{what}: {}", r.detail());
            }
        }
    }
}

const SCOPE_DENIED: &str = "this API token's scopes do not allow this";

/// Token scopes × every endpoint: an administrator's token with one scope reaches exactly the
/// endpoints that scope covers (finding 5: a leaked read token cannot sign or administer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_times_every_token_scope() {
    let t = T::new(&Backend::Sqlite).await;
    let mut tokens = Vec::new();
    for s in Scope::ALL {
        let r = t
            .post(
                &format!("/api/v1/users/{}/tokens", t.admin_id),
                &t.admin,
                json!({"name": format!("only {}", s.as_str()), "scopes": [s.as_str()]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
        assert_eq!(r.json()["scopes"], json!([s.as_str()]));
        tokens.push((s, Auth::Bearer(r.json()["token"].as_str().unwrap().to_string())));
    }
    for route in table().iter().filter(|r| r.access != Access::Public) {
        let path = route
            .path
            .split('/')
            .map(|seg| match seg {
                "{version}" => "1",
                s if s.starts_with('{') => "nonexistent",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        let (ct, body): (Option<&str>, Vec<u8>) = match route.body {
            BodyKind::None => (None, Vec::new()),
            BodyKind::Json => (Some("application/json"), b"{}".to_vec()),
            BodyKind::File => (Some("text/plain"), b"abc".to_vec()),
        };
        for (s, auth) in &tokens {
            let r = t.req(route.method, &path, auth, ct, body.clone()).await;
            let what = format!("{} {} with a {} token", route.method, route.path, s.as_str());
            if scope(route) == *s {
                assert!(!r.detail().starts_with(SCOPE_DENIED), "{what}: {}", r.detail());
            } else {
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.detail());
                assert!(r.detail().starts_with(SCOPE_DENIED), "{what}: {}", r.detail());
            }
        }
    }
    // Reading never needs more than read; signing needs sign; administering needs admin.
    let by = |m: &str, p: &str| {
        table()
            .into_iter()
            .find(|r| r.method == m && r.path == p)
            .map(|r| scope(&r))
    };
    assert_eq!(by("GET", "/api/v1/documents"), Some(Scope::Read));
    assert_eq!(by("POST", "/api/v1/verify"), Some(Scope::Read));
    assert_eq!(by("POST", "/api/v1/documents/{id}/sign"), Some(Scope::Sign));
    assert_eq!(by("POST", "/api/v1/users"), Some(Scope::Admin));
    assert_eq!(by("POST", "/api/v1/me/tokens"), Some(Scope::Admin));
}

/// Tokens expire (90 days unless told otherwise, never more than ten years) and carry at most
/// what their owner may have: a signer cannot hold an admin-scoped token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_and_admin_scope_is_for_administrators() {
    let t = T::new(&Backend::Sqlite).await;
    let (_, alice_id) = t.user("alice", &["signer"]).await;
    let path = format!("/api/v1/users/{alice_id}/tokens");
    let r = t.post(&path, &t.admin, json!({"name": "default"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
    let left = r.json()["expires_at"].as_i64().unwrap() - signet_pki::time::now();
    assert!((89 * 86_400..=90 * 86_400).contains(&left), "{left}");
    assert_eq!(r.json()["scopes"], json!(["read", "sign"]));
    for bad in [
        json!({"name": "x", "scopes": ["admin"]}),
        json!({"name": "x", "scopes": ["root"]}),
        json!({"name": "x", "scopes": []}),
        json!({"name": "x", "expires_in_days": 4000}),
        json!({"name": "x", "expires_in_days": 0}),
    ] {
        let r = t.post(&path, &t.admin, bad.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.detail());
    }
    // An expired token is refused.
    let r = t
        .post(&path, &t.admin, json!({"name": "short", "expires_in_days": 1}))
        .await;
    let token = Auth::Bearer(r.json()["token"].as_str().unwrap().to_string());
    assert_eq!(t.get("/api/v1/me", &token).await.status, StatusCode::OK);
    t.sql(&format!(
        "UPDATE api_tokens SET expires_at = 1 WHERE id = '{}'",
        r.json()["id"].as_str().unwrap()
    ))
    .await;
    let r = t.get("/api/v1/me", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.detail());
}

/// An administrator's sign-only token cannot act on other people's things (review finding: the
/// handlers let the admin role through whatever the token's scopes): another user's token and
/// key, and the organisation key, stay untouched; the same administrator's session can.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_only_admin_token_cannot_revoke_what_others_own() {
    let t = T::new(&Backend::Sqlite).await;
    let (_, alice_id) = t.user("alice", &["signer"]).await;
    let r = t
        .post(
            &format!("/api/v1/users/{alice_id}/tokens"),
            &t.admin,
            json!({"name": "alice's"}),
        )
        .await;
    let alice_token = r.json()["id"].as_str().unwrap().to_string();
    let r = t
        .post(
            &format!("/api/v1/users/{}/tokens", t.admin_id),
            &t.admin,
            json!({"name": "sign only", "scopes": ["sign"]}),
        )
        .await;
    let sign_only = Auth::Bearer(r.json()["token"].as_str().unwrap().to_string());
    let org = t.org_key().await;
    let r = t
        .req(
            "DELETE",
            &format!("/api/v1/tokens/{alice_token}"),
            &sign_only,
            None,
            vec![],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.detail());
    let r = t
        .post(&format!("/api/v1/keys/{org}/revoke"), &sign_only, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.detail());
    let k = t.get("/api/v1/keys", &t.admin).await.json();
    assert!(
        k["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == org.as_str() && k["disabled"] == false)
    );
    // The session of the same administrator may.
    let r = t
        .req(
            "DELETE",
            &format!("/api/v1/tokens/{alice_token}"),
            &t.admin,
            None,
            vec![],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.detail());
}

/// Tokens made before expiries existed get one at the next start (90 days from then, audited);
/// a refused token request leaves no `token.create` entry claiming it was done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_tokens_get_an_expiry_and_refused_requests_are_not_logged_as_done() {
    let t = T::new(&Backend::Sqlite).await;
    let (_, alice_id) = t.user("alice", &["signer"]).await;
    let before = audit_count(&t, &["token.create"]).await;
    let r = t
        .post(
            &format!("/api/v1/users/{alice_id}/tokens"),
            &t.admin,
            json!({"name": "x", "scopes": ["admin"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(audit_count(&t, &["token.create"]).await, before);
    let r = t
        .post(
            &format!("/api/v1/users/{alice_id}/tokens"),
            &t.admin,
            json!({"name": "old"}),
        )
        .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    t.sql(&format!("UPDATE api_tokens SET expires_at = NULL WHERE id = '{id}'"))
        .await;
    let again = signet_server::prepare(t.state.config.clone()).await.unwrap();
    let (expires,): (Option<i64>,) = sqlx::query_as("SELECT expires_at FROM api_tokens WHERE id = $1")
        .bind(&id)
        .fetch_one(&again.state.db.pool)
        .await
        .unwrap();
    let left = expires.unwrap() - signet_pki::time::now();
    assert!((89 * 86_400..=90 * 86_400).contains(&left), "{left}");
    assert_eq!(audit_count(&t, &["token.expiry"]).await, 1);
}
