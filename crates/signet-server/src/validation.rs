//! Validation on the server: the context every verification here is judged against — the
//! organisation CA as trust anchor, its current CRL (so a key revoked here fails at once,
//! unless a time-stamp shows the signature came first), and fetching of other revocation data
//! when configured — and the one entry point, `signet_validate::validate`.

use signet_pki::{Certificate, Crl, ValidationContext, ValidationReport};

use crate::error::{ApiError, ApiResult};
use crate::keys::{self, KeyKind};
use crate::state::AppState;

/// The organisation CA certificate(s).
pub async fn trust_anchors(state: &AppState) -> ApiResult<Vec<Certificate>> {
    let ca = keys::of_kind(&state.db, KeyKind::Ca)
        .await?
        .ok_or_else(|| ApiError::internal("no CA"))?;
    Certificate::parse_many(ca.chain_pem.as_bytes()).map_err(ApiError::internal)
}

/// The organisation CA's current revocation list.
pub async fn own_crl(state: &AppState) -> ApiResult<Crl> {
    let der = crate::revocation::crl(state).await?;
    Crl::from_der(&der).map_err(ApiError::internal)
}

/// The context for validations on this server, as of now.
pub async fn context(state: &AppState) -> ApiResult<ValidationContext> {
    Ok(ValidationContext::new(trust_anchors(state).await?, signet_pki::time::now()).with_crls([own_crl(state).await?]))
}

/// Validates `content` (a PDF or a CMS signature with its content), or `content` signed by the
/// detached `signature`, off the async workers.
pub async fn validate(state: &AppState, content: Vec<u8>, signature: Option<Vec<u8>>) -> ApiResult<ValidationReport> {
    let mut ctx = context(state).await?;
    let config = state.config.clone();
    state
        .work
        .run(move || {
            if config.fetch_revocation {
                ctx = ctx.with_fetcher(crate::net::fetcher(&config).map_err(ApiError::internal)?);
            }
            signet_validate::validate(
                signet_validate::Input {
                    content: signet_validate::Content::Bytes(&content),
                    signature: signature.as_deref(),
                },
                &ctx,
            )
            .map_err(|e| ApiError::unprocessable(format!("cannot validate: {e}")))
        })
        .await?
}
