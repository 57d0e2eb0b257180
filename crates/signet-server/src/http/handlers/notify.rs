//! Webhook subscriptions and the delivery log.

use super::*;
use crate::notifications::{webhooks, worker};

/// `GET /api/v1/webhooks`.
pub async fn list_webhooks(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(ok(json!({"webhooks": webhooks::list(&state).await?})))
}

/// A subscription.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    url: String,
    events: Vec<String>,
}

/// `POST /api/v1/webhooks`.
pub async fn create_webhook(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Json(b): Json<WebhookBody>,
) -> ApiResult<Response> {
    webhooks::check(&b.url, &b.events, state.config.webhook_allow_private)?;
    log(
        &state,
        &c.user.id,
        "webhook.create",
        &b.url,
        json!({"events": b.events}),
    )
    .await?;
    let created = webhooks::create(&state, &b.url, &b.events, &c.user.id).await?;
    let mut resp = Json(created).into_response();
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// `DELETE /api/v1/webhooks/{id}`.
pub async fn disable_webhook(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    log(&state, &c.user.id, "webhook.disable", &id, json!({})).await?;
    webhooks::disable(&state, &id).await?;
    Ok(ok(json!({"status": "disabled"})))
}

/// `GET /api/v1/webhooks/{id}/deliveries`.
pub async fn webhook_deliveries(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok(json!({"deliveries": worker::log(&state, Some(&id), 1000).await?})))
}

/// `GET /api/v1/deliveries`.
pub async fn all_deliveries(State(state): State<AppState>) -> ApiResult<Response> {
    Ok(ok(json!({"deliveries": worker::log(&state, None, 1000).await?})))
}

/// `POST /api/v1/deliveries/{id}/replay`.
pub async fn replay_delivery(
    State(state): State<AppState>,
    Extension(c): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    log(&state, &c.user.id, "delivery.replay", &id, json!({})).await?;
    worker::replay(&state, &id).await?;
    Ok(ok(json!({"status": "due again"})))
}
