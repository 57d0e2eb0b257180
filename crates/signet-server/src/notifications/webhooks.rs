//! Outgoing webhooks: subscriptions (a URL, the kinds of event it wants, a secret shown once),
//! and the signature each delivery carries: `X-Signet-Signature: t=TIME,v1=HMAC` where HMAC is
//! HMAC-SHA256 under the secret over `TIME.BODY`, so a receiver checks origin and freshness.

use serde::Serialize;
use sqlx::Row;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A subscription (never its secret).
#[derive(Clone, Debug, Serialize)]
pub struct Webhook {
    /// Id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// The kinds of event it gets (`*`: all).
    pub events: Vec<String>,
    /// No deliveries while disabled.
    pub disabled: bool,
    /// Created at.
    pub created_at: i64,
}

/// A new subscription, with its secret (shown once).
#[derive(Serialize)]
pub struct Created {
    /// The subscription.
    pub webhook: Webhook,
    /// The secret deliveries are signed with.
    pub secret: String,
}

fn context(id: &str) -> String {
    format!("webhook:{id}")
}

/// Checks a subscription's URL and kinds.
pub fn check(url: &str, events: &[String], allow_private: bool) -> ApiResult<()> {
    // The fetch policy's rules (http/https, a host, no credentials, no control characters; an
    // address literal must be public unless allowed). Names are checked again when delivering,
    // after resolution.
    signet_net::policy::check_url(url, signet_net::policy::FetchPolicy { allow_private })
        .map_err(|e| ApiError::unprocessable(format!("webhook URL: {e}")))?;
    if events.is_empty() {
        return Err(ApiError::unprocessable("name the kinds of event to deliver (or \"*\")"));
    }
    for e in events {
        if e != "*" && !super::EVENT_KINDS.contains(&e.as_str()) {
            return Err(ApiError::unprocessable(format!(
                "unknown event kind {e:?}; kinds are {}",
                super::EVENT_KINDS.join(", ")
            )));
        }
    }
    Ok(())
}

/// Creates a subscription (checked with [`check`] first).
pub async fn create(state: &AppState, url: &str, events: &[String], by: &str) -> ApiResult<Created> {
    check(url, events, state.config.webhook_allow_private)?;
    let id = crate::users::new_id()?;
    let mut raw = zeroize::Zeroizing::new([0u8; 32]);
    signet_crypto::random_bytes(raw.as_mut()).map_err(ApiError::internal)?;
    let secret = format!("whsec_{}", hex::encode(raw.as_ref()));
    let sealed = state
        .kek
        .seal(&context(&id), secret.as_bytes())
        .map_err(ApiError::internal)?;
    let now = signet_pki::time::now();
    sqlx::query(
        "INSERT INTO webhooks (id, url, events, secret, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(url)
    .bind(events.join(","))
    .bind(sealed)
    .bind(by)
    .bind(now)
    .execute(&state.db.writer)
    .await?;
    Ok(Created {
        webhook: Webhook {
            id,
            url: url.to_string(),
            events: events.to_vec(),
            disabled: false,
            created_at: now,
        },
        secret,
    })
}

fn row(r: &sqlx::any::AnyRow) -> Result<Webhook, sqlx::Error> {
    let events: String = r.try_get(2)?;
    Ok(Webhook {
        id: r.try_get(0)?,
        url: r.try_get(1)?,
        events: events.split(',').map(String::from).collect(),
        disabled: r.try_get::<i64, _>(3)? != 0,
        created_at: r.try_get(4)?,
    })
}

/// Every subscription.
pub async fn list(state: &AppState) -> ApiResult<Vec<Webhook>> {
    let rows = sqlx::query("SELECT id, url, events, disabled, created_at FROM webhooks ORDER BY created_at, id")
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(row).collect::<Result<_, _>>().map_err(ApiError::from)
}

/// A subscription with its secret, for delivering.
pub async fn with_secret(state: &AppState, id: &str) -> ApiResult<Option<(Webhook, zeroize::Zeroizing<Vec<u8>>)>> {
    let r = sqlx::query("SELECT id, url, events, disabled, created_at, secret FROM webhooks WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(r) = r else { return Ok(None) };
    let hook = row(&r)?;
    let sealed: Vec<u8> = r.try_get(5)?;
    let secret = state.kek.open(&context(id), &sealed).map_err(ApiError::internal)?;
    Ok(Some((hook, secret)))
}

/// Disables a subscription (its deliveries stop; the log stays).
pub async fn disable(state: &AppState, id: &str) -> ApiResult<()> {
    let r = sqlx::query("UPDATE webhooks SET disabled = 1 WHERE id = $1")
        .bind(id)
        .execute(&state.db.writer)
        .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::not_found(format!("no webhook {id}")));
    }
    Ok(())
}

/// The signature header for `body` sent at `at`.
pub fn signature(secret: &[u8], at: i64, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let mut ctx = aws_lc_rs::hmac::Context::with_key(&key);
    ctx.update(at.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("t={at},v1={}", hex::encode(ctx.sign().as_ref()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_over_time_dot_body() {
        // RFC 4231 test case 2's key and data, with "1." in front of the data.
        let s = super::signature(b"Jefe", 1, b"what do ya want for nothing?");
        assert!(s.starts_with("t=1,v1="));
        assert_eq!(s.len(), "t=1,v1=".len() + 64);
        assert_ne!(super::signature(b"Jefe", 2, b"what do ya want for nothing?"), s);
        assert!(super::check("https://crm.example/hook", &["step.waiting".into()], false).is_ok());
        assert!(super::check("ftp://x", &["*".into()], false).is_err());
        assert!(super::check("https://x", &["no.such".into()], false).is_err());
        assert!(super::check("https://user:pw@crm.example/hook", &["*".into()], false).is_err());
        assert!(super::check("http://127.0.0.1:9/hook", &["*".into()], false).is_err());
        assert!(super::check("http://127.0.0.1:9/hook", &["*".into()], true).is_ok());
    }
}
