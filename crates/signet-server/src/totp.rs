//! TOTP step-up (RFC 6238): enrolment with an `otpauth://` URI and QR code, confirmation, the
//! one-code-per-step rule enforced by the database (so it holds across server processes),
//! back-off and lock-out after repeated failures, and recovery codes.

use serde::Serialize;
use signet_crypto::otp::{self, OtpAlgorithm};
use sqlx::Row;
use zeroize::Zeroizing;

use crate::audit::Event;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::User;

/// Period of a code, seconds.
pub const STEP: u64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Codes one step before or after now are accepted (clock drift).
pub const WINDOW: i64 = 1;
const RECOVERY_CODES: usize = 10;

fn context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

/// What the user scans.
#[derive(Serialize)]
pub struct Enrolment {
    /// `otpauth://totp/…` URI.
    pub otpauth_uri: String,
    /// The same as a QR code (SVG).
    pub qr_svg: String,
    /// The secret in base32, for typing by hand.
    pub secret_base32: String,
}

fn uri_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Starts (or restarts, while unconfirmed) enrolment: a new secret, encrypted at rest.
pub async fn enrol(state: &AppState, user: &User) -> ApiResult<Enrolment> {
    if user.totp_enrolled {
        return Err(ApiError::conflict(
            "an authenticator is already enrolled; use a recovery code or ask an administrator to reset it",
        ));
    }
    let mut secret = Zeroizing::new([0u8; 20]);
    signet_crypto::random_bytes(secret.as_mut()).map_err(ApiError::internal)?;
    let sealed = state
        .kek
        .seal(&context(&user.id), secret.as_ref())
        .map_err(ApiError::internal)?;
    state
        .audit
        .append(&Event {
            actor: &user.id,
            action: "totp.enrol",
            target: &user.id,
            outcome: "started",
            details: serde_json::json!({}),
        })
        .await?;
    sqlx::query("UPDATE users SET totp_secret = $1, totp_confirmed = 0 WHERE id = $2")
        .bind(sealed)
        .bind(&user.id)
        .execute(&state.db.writer)
        .await?;
    let b32 = otp::base32_encode(secret.as_ref());
    let issuer = uri_escape(&state.config.organisation);
    let uri = format!(
        "otpauth://totp/{issuer}:{}?secret={b32}&issuer={issuer}&algorithm={}&digits={DIGITS}&period={STEP}",
        uri_escape(&user.username),
        OtpAlgorithm::Sha1.uri_name()
    );
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(ApiError::internal)?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Ok(Enrolment {
        otpauth_uri: uri,
        qr_svg: svg,
        secret_base32: b32,
    })
}

/// Why a code was refused, for the audit log.
fn refuse_reason(kind: &Refusal) -> &'static str {
    match kind {
        Refusal::Wrong => "wrong code",
        Refusal::Replayed => "code already used",
    }
}

enum Refusal {
    Wrong,
    Replayed,
}

/// Checks a one-time code for `user` and consumes its time step. `purpose` and `target` go to
/// the audit log. Throttled: after `totp_backoff_after` failures each further attempt waits
/// 2^n seconds (up to `totp_backoff_max_secs`); after `totp_max_failures` the account is locked
/// until an administrator unlocks it.
///
/// Every attempt is claimed before the code is checked (one conditional UPDATE), so the limit
/// holds under concurrency and across nodes. The counter belongs to the user, whatever key a
/// signature names (`key_id` is audited): wrong codes against the shared organisation key lock
/// the one who typed them, never the key for everyone.
pub async fn step_up(
    state: &AppState,
    user: &User,
    code: &str,
    purpose: &str,
    target: &str,
    key_id: Option<&str>,
) -> ApiResult<()> {
    let db = &state.db;
    let now = state.now();
    let row =
        sqlx::query("SELECT totp_secret, totp_confirmed, totp_failures, totp_locked_until FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_one(&db.pool)
            .await?;
    let sealed: Option<Vec<u8>> = row.try_get(0)?;
    let confirmed: i64 = row.try_get(1)?;
    let failures: i64 = row.try_get(2)?;
    let locked_until: i64 = row.try_get(3)?;
    let confirming = purpose == "totp.confirm";
    let Some(sealed) = sealed.filter(|_| confirmed != 0 || confirming) else {
        return Err(ApiError::forbidden(
            "no authenticator app is enrolled: enrol one first (POST /api/v1/me/totp/enrol)",
        ));
    };
    let locked = |failures: i64, locked_until: i64| {
        if failures >= state.config.totp_max_failures {
            ApiError::forbidden("too many wrong codes: the account is locked; an administrator must unlock it")
        } else {
            ApiError::too_many(
                "too many wrong codes; wait before trying again",
                u64::try_from(locked_until - now).unwrap_or(1).max(1),
            )
        }
    };
    if failures >= state.config.totp_max_failures || now < locked_until {
        return Err(locked(failures, locked_until));
    }
    // Claim this attempt before the code is checked: one conditional UPDATE, so concurrent
    // attempts — on this node or others — each take one of the account's slots, and no more
    // codes are checked than the limit allows. Once back-off applies, the claim itself holds
    // the account for a second, so attempts in parallel cannot all slip through it.
    let claimed: Option<(i64,)> = sqlx::query_as(
        "UPDATE users SET totp_failures = totp_failures + 1, totp_locked_until = CASE WHEN totp_failures + 1 > $1 THEN $2 ELSE totp_locked_until END WHERE id = $3 AND totp_failures < $4 AND totp_locked_until <= $5 RETURNING totp_failures",
    )
    .bind(state.config.totp_backoff_after)
    .bind(now + 1)
    .bind(&user.id)
    .bind(state.config.totp_max_failures)
    .bind(now)
    .fetch_optional(&db.writer)
    .await?;
    let Some((attempt,)) = claimed else {
        let (failures, locked_until): (i64, i64) =
            sqlx::query_as("SELECT totp_failures, totp_locked_until FROM users WHERE id = $1")
                .bind(&user.id)
                .fetch_one(&db.pool)
                .await?;
        return Err(locked(failures, locked_until));
    };
    let secret = state
        .kek
        .open(&context(&user.id), &sealed)
        .map_err(ApiError::internal)?;
    let current = otp::time_step(now, STEP) as i64;
    let matched = (-WINDOW..=WINDOW)
        .map(|d| current + d)
        .find(|s| otp::code_matches(code, otp::hotp(OtpAlgorithm::Sha1, &secret, *s as u64, DIGITS), DIGITS));
    let refusal = match matched {
        None => Some(Refusal::Wrong),
        Some(step) => {
            // One code per step, and never a step at or before one already used: the primary
            // key decides between concurrent requests, on one node or many.
            let newest: Option<(Option<i64>,)> = sqlx::query_as("SELECT MAX(step) FROM totp_used WHERE user_id = $1")
                .bind(&user.id)
                .fetch_optional(&db.pool)
                .await?;
            if newest.and_then(|r| r.0).is_some_and(|m| m >= step) {
                Some(Refusal::Replayed)
            } else {
                let r = sqlx::query(
                    "INSERT INTO totp_used (user_id, step, used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(&user.id)
                .bind(step)
                .bind(now)
                .execute(&db.writer)
                .await?;
                if r.rows_affected() == 1 {
                    None
                } else {
                    Some(Refusal::Replayed)
                }
            }
        }
    };
    match refusal {
        None => {
            // The right code: this attempt's slot and any back-off are released.
            sqlx::query("UPDATE users SET totp_failures = 0, totp_locked_until = 0 WHERE id = $1")
                .bind(&user.id)
                .execute(&db.writer)
                .await?;
            Ok(())
        }
        Some(kind) => {
            let failures = attempt;
            let over = failures - state.config.totp_backoff_after;
            let lock = if over >= 0 {
                now + (1i64 << over.min(20)).min(state.config.totp_backoff_max_secs.max(1))
            } else {
                0
            };
            state
                .metrics
                .totp_failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            state.audit.append(&Event {
                actor: &user.id,
                action: "totp.failure",
                target,
                outcome: "denied",
                details: serde_json::json!({"purpose": purpose, "reason": refuse_reason(&kind), "failures": failures, "key": key_id}),
            })
            .await?;
            if failures >= state.config.totp_max_failures {
                state
                    .audit
                    .append(&Event {
                        actor: &user.id,
                        action: "account.lock",
                        target: &user.id,
                        outcome: "ok",
                        details: serde_json::json!({"reason": "too many wrong one-time codes", "failures": failures}),
                    })
                    .await?;
            }
            // The slot stays taken; the back-off only ever grows here.
            sqlx::query("UPDATE users SET totp_locked_until = $1 WHERE id = $2 AND totp_locked_until < $1")
                .bind(lock)
                .bind(&user.id)
                .execute(&db.writer)
                .await?;
            Err(match kind {
                Refusal::Wrong => ApiError::forbidden("wrong one-time code"),
                Refusal::Replayed => ApiError::forbidden(
                    "this one-time code was already used; wait for the next code of your authenticator",
                ),
            })
        }
    }
}

fn recovery_hash(user_id: &str, code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    crate::auth::token_hash(&format!("{user_id}:{norm}"))
}

/// Confirms enrolment with a first code; returns the recovery codes (shown once, stored hashed).
pub async fn confirm(state: &AppState, user: &User, code: &str) -> ApiResult<Vec<String>> {
    if user.totp_enrolled {
        return Err(ApiError::conflict("the authenticator is already confirmed"));
    }
    step_up(state, user, code, "totp.confirm", &user.id, None).await?;
    // Audited before it takes effect.
    state
        .audit
        .append(&Event {
            actor: &user.id,
            action: "totp.enrol",
            target: &user.id,
            outcome: "ok",
            details: serde_json::json!({}),
        })
        .await?;
    let mut codes = Vec::new();
    let mut tx = state.db.begin_write().await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    for _ in 0..RECOVERY_CODES {
        let mut b = [0u8; 8];
        signet_crypto::random_bytes(&mut b).map_err(ApiError::internal)?;
        let h = hex::encode(b);
        let code = format!("{}-{}-{}-{}", &h[0..4], &h[4..8], &h[8..12], &h[12..16]);
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(&user.id)
            .bind(recovery_hash(&user.id, &code))
            .execute(&mut *tx)
            .await?;
        codes.push(code);
    }
    sqlx::query("UPDATE users SET totp_confirmed = 1 WHERE id = $1")
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Uses a recovery code to drop the enrolled authenticator (the user then enrols a new one).
pub async fn recover(state: &AppState, user: &User, code: &str) -> ApiResult<()> {
    let h = recovery_hash(&user.id, code);
    state
        .audit
        .append(&Event {
            actor: &user.id,
            action: "totp.recover",
            target: &user.id,
            outcome: "started",
            details: serde_json::json!({}),
        })
        .await?;
    let r =
        sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(signet_pki::time::now())
            .bind(&user.id)
            .bind(h)
            .execute(&state.db.writer)
            .await?;
    if r.rows_affected() != 1 {
        return Err(ApiError::forbidden("unknown or already used recovery code"));
    }
    reset(state, &user.id).await
}

/// Drops a user's authenticator (administrator reset or recovery).
pub async fn reset(state: &AppState, user_id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE users SET totp_secret = NULL, totp_confirmed = 0, totp_failures = 0, totp_locked_until = 0 WHERE id = $1")
        .bind(user_id)
        .execute(&state.db.writer)
        .await?;
    Ok(())
}

/// The current code for a secret (tests and the CLI's self-check).
pub fn code_at(secret: &[u8], now: i64) -> String {
    otp::format_code(otp::totp(OtpAlgorithm::Sha1, secret, now, STEP, DIGITS), DIGITS)
}
