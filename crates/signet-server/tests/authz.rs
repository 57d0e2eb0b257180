//! The authorization matrix: every endpoint of the route table × every role (and no
//! credentials, and a user who has not changed the one-time password yet). Generated from the
//! table, so a new endpoint is covered the moment it exists.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use signet_server::http::routes::{Access, BodyKind, table};
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
                            json!({"name": "matrix"}),
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
