//! The endpoints of notifications: webhook subscriptions and the delivery log.

use axum::routing::{delete, get, post};

use super::super::handlers as h;
use super::*;

/// The notification endpoints.
pub fn routes() -> Vec<Route> {
    use Access::*;
    use BodyKind as B;
    let r = route;
    vec![
        r(
            "GET",
            "/api/v1/webhooks",
            Roles(ADMINS),
            "Webhook subscriptions",
            B::None,
            JSON,
            || get(h::list_webhooks),
        ),
        r(
            "POST",
            "/api/v1/webhooks",
            Roles(ADMINS),
            "Subscribe a URL to events (the signing secret is shown once)",
            B::Json,
            JSON,
            || post(h::create_webhook),
        ),
        r(
            "DELETE",
            "/api/v1/webhooks/{id}",
            Roles(ADMINS),
            "Stop a subscription",
            B::None,
            JSON,
            || delete(h::disable_webhook),
        ),
        r(
            "GET",
            "/api/v1/webhooks/{id}/deliveries",
            Roles(ADMINS),
            "A subscription's delivery log",
            B::None,
            JSON,
            || get(h::webhook_deliveries),
        ),
        r(
            "GET",
            "/api/v1/deliveries",
            Roles(ADMINS),
            "Every delivery (webhooks and e-mail), newest first",
            B::None,
            JSON,
            || get(h::all_deliveries),
        ),
        r(
            "POST",
            "/api/v1/deliveries/{id}/replay",
            Roles(ADMINS),
            "Deliver again",
            B::None,
            JSON,
            || post(h::replay_delivery),
        ),
    ]
}
